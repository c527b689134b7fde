#pragma once
// A decoding session: model + backend + KV cache + sampler + the token
// sequence. prefill(prompt) runs the prompt; each step() then feeds the token
// chosen last (if any), samples the next one and reports it with the top-k
// candidates. Steps are lazy: the token a step returns is only run through
// the model by the following step, so stopping costs no wasted forward pass.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "kv/kv_cache.h"
#include "model/model.h"
#include "session/sampler.h"

namespace kvscope {

struct SessionOptions {
    int32_t n_ctx = 0;           // context length; 0 = the model's training context
    int32_t top_k_report = 5;    // candidates reported per step
    int32_t prefill_batch = 64;  // prompt tokens per forward call
    SamplingParams sampling;

    void validate(const ModelConfig& config) const;  // throws InvalidSetting
};

struct TokenCandidate {
    TokenId id = 0;
    float logit = 0;
    float probability = 0;  // softmax of the raw logits (temperature 1)
};

struct StepResult {
    int32_t step = 0;          // 0-based index among generated tokens
    int32_t position = 0;      // text position of the new token
    TokenId token = 0;
    std::string text;          // the token's bytes (may be part of a UTF-8 character)
    std::vector<TokenCandidate> top;  // highest logits first
    bool end_of_generation = false;
    double forward_ms = 0;     // running the previous token through the model
    double sample_ms = 0;
};

class Session {
public:
    Session(const Model& model, std::unique_ptr<Backend> backend, const SessionOptions& options);

    // Clears the cache and runs the prompt. Throws InvalidSetting if it is
    // empty or longer than the context.
    void prefill(const std::vector<TokenId>& prompt);
    // Throws kvscope::Error "context full" when the next token would not fit.
    // With `forced`, that token is taken instead of a sampled one (replaying a
    // recorded sequence, or comparing against a reference decoder step by step);
    // the reported top-k still comes from the model's logits.
    StepResult step(std::optional<TokenId> forced = std::nullopt);

    const Model& model() const { return model_; }
    Backend& backend() { return *backend_; }
    const KvCache& cache() const { return cache_; }
    const SessionOptions& options() const { return options_; }
    int32_t n_ctx() const { return n_ctx_; }
    const std::vector<TokenId>& tokens() const { return tokens_; }  // prompt + generated
    int32_t n_prompt() const { return n_prompt_; }
    int32_t n_generated() const { return static_cast<int32_t>(tokens_.size()) - n_prompt_; }
    // Logits of the position after the last token fed ([n_vocab]).
    const std::vector<float>& logits() const { return logits_; }
    double prefill_ms() const { return prefill_ms_; }

private:
    void feed(const std::vector<TokenId>& tokens, int32_t first_position);

    const Model& model_;
    std::unique_ptr<Backend> backend_;
    SessionOptions options_;
    int32_t n_ctx_;
    KvCache cache_;
    Sampler sampler_;
    std::vector<TokenId> tokens_;
    int32_t n_prompt_ = 0;
    int32_t n_fed_ = 0;              // tokens run through the model so far
    std::vector<float> logits_;      // [n_vocab]
    double prefill_ms_ = 0;
};

// Top-k candidates of a logit vector, highest first, with softmax probabilities.
std::vector<TokenCandidate> top_candidates(const float* logits, int32_t n_vocab, int32_t k);

}  // namespace kvscope
