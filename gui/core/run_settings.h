#pragma once
// Everything a decoding run starts from: the prompt, the session options and
// (for Replay) the tokens to force. Plain values, copied to the worker thread.
#include <QMetaType>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/backend_options.h"
#include "session/session.h"

namespace kvscope::gui {

struct RunSettings {
    std::string prompt;            // the user's text
    bool chat_template = true;     // wrap it as a user turn: Gemma's for gemma3, else ChatML (refused without a ChatML template)
    // Non-empty: these exact prompt tokens instead of tokenizing `prompt`
    // (Replay of a session opened from a file: its prompt as it was run).
    std::vector<int32_t> prompt_tokens;
    SessionOptions options;        // n_ctx, sampling, policy, capture, reference run
    int32_t max_new_tokens = 256;  // Run stops after this many generated tokens
    BackendOptions backend;        // auto / cpu / cuda, CPU threads, CUDA device
    uint64_t trace_budget_bytes = 1ull << 30;
    // Replay: the generated tokens of an earlier run, forced in order (the
    // model still reports its own top-k); the run stops after the last one.
    std::vector<int32_t> forced;
};

}  // namespace kvscope::gui

using KvSnapshotPtr = std::shared_ptr<const kvscope::StepSnapshot>;
Q_DECLARE_METATYPE(KvSnapshotPtr)
Q_DECLARE_METATYPE(kvscope::gui::RunSettings)
Q_DECLARE_METATYPE(kvscope::PolicyConfig)
