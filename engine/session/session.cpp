#include "session/session.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "util/error.h"

namespace kvscope {
namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

KvCacheShape cache_shape(const ModelConfig& c) { return {c.n_layer, c.n_head_kv, c.head_dim}; }

}  // namespace

void SessionOptions::validate(const ModelConfig& config) const {
    if (n_ctx < 0 || n_ctx > config.n_ctx_train)
        throw InvalidSetting("context length must be between 1 and the model's " + std::to_string(config.n_ctx_train) +
                             " (0 = that), got " + std::to_string(n_ctx));
    if (top_k_report < 1 || top_k_report > config.n_vocab)
        throw InvalidSetting("reported top-k must be between 1 and " + std::to_string(config.n_vocab) + ", got " +
                             std::to_string(top_k_report));
    if (prefill_batch < 1 || prefill_batch > 4096)
        throw InvalidSetting("prefill batch must be between 1 and 4096, got " + std::to_string(prefill_batch));
    sampling.validate();
}

std::vector<TokenCandidate> top_candidates(const float* logits, int32_t n_vocab, int32_t k) {
    k = std::min(k, n_vocab);
    std::vector<int32_t> ids(static_cast<size_t>(n_vocab));
    for (int32_t i = 0; i < n_vocab; ++i) ids[static_cast<size_t>(i)] = i;
    std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), [&](int32_t a, int32_t b) {
        return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    const float max = logits[ids[0]];
    double sum = 0.0;
    for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i] - max));
    std::vector<TokenCandidate> out;
    for (int32_t i = 0; i < k; ++i) {
        const int32_t id = ids[static_cast<size_t>(i)];
        out.push_back({id, logits[id], static_cast<float>(std::exp(static_cast<double>(logits[id] - max)) / sum)});
    }
    return out;
}

Session::Session(const Model& model, std::unique_ptr<Backend> backend, const SessionOptions& options)
    : model_(model),
      backend_(std::move(backend)),
      options_((options.validate(model.config()), options)),
      n_ctx_(options.n_ctx == 0 ? model.config().n_ctx_train : options.n_ctx),
      cache_(cache_shape(model.config()), n_ctx_),
      sampler_(options.sampling),
      logits_(static_cast<size_t>(model.config().n_vocab)) {}

void Session::feed(const std::vector<TokenId>& tokens, int32_t first_position) {
    std::vector<int32_t> positions(tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
        positions[i] = first_position + static_cast<int32_t>(i);
        for (int32_t l = 0; l < model_.config().n_layer; ++l) cache_.insert(l, positions[i]);
    }
    backend_->forward(tokens, positions, cache_, logits_.data());
    n_fed_ += static_cast<int32_t>(tokens.size());
}

void Session::prefill(const std::vector<TokenId>& prompt) {
    if (prompt.empty()) throw InvalidSetting("the prompt is empty: give at least one token");
    if (static_cast<int64_t>(prompt.size()) > n_ctx_)
        throw InvalidSetting("the prompt has " + std::to_string(prompt.size()) + " tokens, more than the context length " +
                             std::to_string(n_ctx_));
    for (size_t i = 0; i < prompt.size(); ++i)
        if (prompt[i] < 0 || prompt[i] >= model_.config().n_vocab)
            throw InvalidSetting("prompt token #" + std::to_string(i) + " = " + std::to_string(prompt[i]) +
                                 " is outside the vocabulary (0.." + std::to_string(model_.config().n_vocab - 1) + ")");
    const auto t0 = std::chrono::steady_clock::now();
    cache_.clear();
    sampler_.reset();
    tokens_ = prompt;
    n_prompt_ = static_cast<int32_t>(prompt.size());
    n_fed_ = 0;
    for (size_t i = 0; i < prompt.size(); i += static_cast<size_t>(options_.prefill_batch)) {
        const size_t end = std::min(prompt.size(), i + static_cast<size_t>(options_.prefill_batch));
        feed(std::vector<TokenId>(prompt.begin() + static_cast<long>(i), prompt.begin() + static_cast<long>(end)),
             static_cast<int32_t>(i));
    }
    prefill_ms_ = ms_since(t0);
}

StepResult Session::step(std::optional<TokenId> forced) {
    if (n_prompt_ == 0) throw Error("step() before prefill(): give a prompt first");
    StepResult r;
    const auto t0 = std::chrono::steady_clock::now();
    if (n_fed_ < static_cast<int32_t>(tokens_.size())) {
        // The token chosen by the previous step enters the model now.
        if (n_fed_ >= n_ctx_)
            throw Error("context full: " + std::to_string(n_fed_) + " tokens fill the context length " +
                        std::to_string(n_ctx_) + " (start again with a larger context or a shorter prompt)");
        feed({tokens_.back()}, n_fed_);
    }
    r.timings.forward_ms = ms_since(t0);
    const auto t1 = std::chrono::steady_clock::now();
    const int32_t n_vocab = model_.config().n_vocab;
    r.top = top_candidates(logits_.data(), n_vocab, options_.top_k_report);
    if (forced && (*forced < 0 || *forced >= n_vocab))
        throw InvalidSetting("forced token " + std::to_string(*forced) + " is outside the vocabulary (0.." +
                             std::to_string(n_vocab - 1) + ")");
    r.token = forced ? *forced : sampler_.sample(logits_.data(), n_vocab);
    r.timings.sample_ms = ms_since(t1);
    r.step = n_generated();
    r.position = static_cast<int32_t>(tokens_.size());
    r.text = model_.tokenizer().token_to_piece(r.token, false);
    r.end_of_generation = model_.tokenizer().is_end_of_generation(r.token);
    tokens_.push_back(r.token);
    return r;
}

}  // namespace kvscope
