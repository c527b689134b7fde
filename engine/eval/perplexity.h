#pragma once
// Perplexity of a token sequence under a cache policy, StreamingLLM style:
// the text is fed one token at a time (prefill of the first token, then one
// forced step per token), so every prediction sees exactly the cache the
// policy leaves; nll_i = −log p(token_i | the cache after token_{i−1}).
#include <cstdint>
#include <functional>
#include <vector>

#include "model/model.h"
#include "session/session.h"

namespace kvscope {

struct PerplexityResult {
    double ppl = 0;                  // exp(mean_nll)
    double mean_nll = 0;             // nats per scored token
    int32_t n_scored = 0;            // tokens predicted: the text length − 1
    std::vector<float> nll_per_token;  // [n_scored] nll of tokens[1..]
    uint64_t peak_kv_bytes = 0;      // most K/V bytes held at any step
    uint64_t final_kv_bytes = 0;     // K/V bytes held after the last token fed
    // With SessionOptions::reference_run: the session's full-cache shadow run (f16, original
    // positions) is fed the same tokens in lock-step. NaN when it is off.
    double mean_kl = 0;              // mean KL(p_full ‖ p_policy) over scored tokens
    double top1_agreement = 0;       // fraction of scored tokens whose argmax agrees
};

// Return false to cancel; done counts scored tokens out of total.
using EvalProgress = std::function<bool(int32_t done, int32_t total)>;

// The session options used for a text of n_tokens: options with n_ctx set to
// the text length (the policy decides how much of it is held) and the
// per-step extras the evaluation does not read (cache views, attention
// capture, the session's own reference) turned off. Throws InvalidSetting
// when the text has fewer than 2 tokens or more than the model's training
// context.
SessionOptions perplexity_session_options(const ModelConfig& config, SessionOptions options, size_t n_tokens);

// Throws InvalidSetting as above or for an invalid policy, and
// kvscope::Error("cancelled") when progress returns false.
PerplexityResult perplexity(const Model& model, const std::vector<TokenId>& tokens, const SessionOptions& options,
                            const BackendFactory& backend, const EvalProgress& progress = {});

}  // namespace kvscope
