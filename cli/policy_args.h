#pragma once
// The cache-policy flags every decoding command shares (generate, ppl, ...):
//   --policy full|window|sinks|global|h2o   (default: inferred, see below)
//   --window W   --sinks S   --pin P,Q,...   --pin-every K   --h2o H,R
//   --layer-pattern full:K        every K-th layer (1-based) keeps everything
//   --dynamic-window SPEC         e.g. "1024:full,8192:2048,4096": below 1,024
//                                 positions full, below 8,192 a window of
//                                 2,048, else 4,096 (the last step may omit "below:")
//   --kv-type f32|f16|q8_0        --positions original|in-cache
// Without --policy: --h2o → h2o, --pin/--pin-every → global, --sinks S > 0 →
// sinks, --window or --dynamic-window → window, else full.
// A malformed value is a UsageError naming the flag; whether the values fit
// together and the context (S < W, pins inside the text, ...) is checked by
// PolicyConfig::validate when the session starts (InvalidSetting, exit 2).
#include <set>
#include <string>

#include "args.h"
#include "kv/kv_policy.h"

namespace kvscope::cli {

// The option names above (all take a value), for the Args constructor.
std::set<std::string> policy_value_options();

PolicyConfig policy_from_args(const Args& args);

}  // namespace kvscope::cli
