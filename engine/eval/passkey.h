#pragma once
// Passkey retrieval (Landmark Attention / StreamingLLM): a 5-digit key hidden
// at a chosen depth of repeated filler text, then "What is the pass key? The
// pass key is"; the model decodes greedily and passes when the digits come
// out. With a window smaller than the distance to the key, the key has left
// the cache and retrieval should fail: accuracy vs window shows what a policy
// really remembers.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/model.h"
#include "session/session.h"

namespace kvscope {

struct PasskeyPrompt {
    std::vector<TokenId> tokens;  // the whole prompt (with BOS when the model adds one)
    std::string passkey;
    int32_t key_begin = 0;     // token index where the key sentence starts
    int32_t key_end = 0;       // one past its last token
    int32_t filler_units = 0;  // filler paragraphs in the prompt
    int32_t units_before = 0;  // of which before the key: round(depth × filler_units)
};

// Builds a prompt of at most target_tokens tokens (as close as whole filler
// paragraphs allow) with `passkey` at `depth` (0 = right after the
// instructions, 1 = right before the question). Segments are tokenized one by
// one so the key's token range is exact. Throws InvalidSetting when depth is
// outside [0, 1] or target_tokens is too short for the instructions, the key
// and the question.
PasskeyPrompt build_passkey_prompt(const Tokenizer& tokenizer, int32_t target_tokens, double depth,
                                   const std::string& passkey);

// Five digits, first one non-zero, from a simple deterministic generator.
std::string random_passkey(uint64_t& state);

struct PasskeyGrid {
    std::vector<int32_t> lengths;    // target prompt lengths in tokens
    std::vector<double> depths;      // in [0, 1]
    std::vector<int32_t> windows{0};  // 0 = full cache
    std::vector<int32_t> sinks{0};   // 0 = window alone; ignored (must be 0) with window 0
    int32_t trials = 1;              // keys per (length, depth, window, sinks)
    uint64_t seed = 1;
    int32_t decode_tokens = 8;       // greedy tokens decoded after the question
};

struct PasskeyRow {
    int32_t length = 0;  // target length
    double depth = 0;
    int32_t window = 0;  // 0 = full
    int32_t sinks = 0;
    int32_t trials = 0;
    int32_t correct = 0;
    double accuracy = 0;  // correct / trials; NaN when skipped
    std::string note;     // non-empty: skipped, and why (e.g. sinks >= window)
};

// Called after each trial; return false to cancel (kvscope::Error "cancelled").
using PasskeyProgress = std::function<bool(int32_t done, int32_t total)>;

// Rows in grid order (lengths, depths, windows, sinks). The same keys are
// used for every policy at a given (length, depth), so rows are comparable.
// `base` gives the KV value type and position mode (base.policy.kv_type /
// .positions); the policy kind, window and sinks come from the grid.
std::vector<PasskeyRow> passkey_accuracy(const Model& model, const SessionOptions& base, const PasskeyGrid& grid,
                                         const BackendFactory& backend, const PasskeyProgress& progress = {});

}  // namespace kvscope
