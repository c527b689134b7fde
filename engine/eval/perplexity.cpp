#include "eval/perplexity.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "backend/backend.h"
#include "eval/metrics.h"
#include "session/sampler.h"
#include "util/error.h"

namespace kvscope {

SessionOptions perplexity_session_options(const ModelConfig& config, SessionOptions options, size_t n_tokens) {
    if (n_tokens < 2)
        throw InvalidSetting("perplexity needs a text of at least 2 tokens, got " + std::to_string(n_tokens));
    if (n_tokens > static_cast<size_t>(config.n_ctx_train))
        throw InvalidSetting("the text has " + std::to_string(n_tokens) + " tokens, more than the model's training context " +
                             std::to_string(config.n_ctx_train) + " (shorten it, e.g. --max-tokens " +
                             std::to_string(config.n_ctx_train) + ")");
    options.n_ctx = static_cast<int32_t>(n_tokens);
    options.top_k_report = 1;
    options.capture_attention = false;
    options.cache_views = false;
    return options;
}

PerplexityResult perplexity(const Model& model, const std::vector<TokenId>& tokens, const SessionOptions& options,
                            const BackendFactory& backend, const EvalProgress& progress) {
    const SessionOptions so = perplexity_session_options(model.config(), options, tokens.size());
    Session session(model, backend(model), so);

    const int32_t n_vocab = model.config().n_vocab;
    const int32_t total = static_cast<int32_t>(tokens.size()) - 1;
    PerplexityResult r;
    r.nll_per_token.reserve(static_cast<size_t>(total));
    session.prefill({tokens[0]});
    double nll_sum = 0.0, kl_sum = 0.0;
    int32_t agree = 0;
    for (int32_t i = 1; i <= total; ++i) {
        const TokenId next = tokens[static_cast<size_t>(i)];
        const StepSnapshot snap = session.step(next);  // logits() now predict `next` from the cache the policy left
        // The log-probability is taken from the logits in double (the same value
        // as the snapshot's chosen_logprob, which is single precision).
        const double nll = -log_softmax_at(session.logits().data(), n_vocab, next);
        nll_sum += nll;
        r.nll_per_token.push_back(static_cast<float>(nll));
        if (snap.reference) {  // the session's full-cache shadow run
            kl_sum += snap.reference->kl_full_policy;
            agree += snap.reference->top1_agrees ? 1 : 0;
        }
        r.final_kv_bytes = session.cache().bytes_held();
        r.peak_kv_bytes = std::max(r.peak_kv_bytes, r.final_kv_bytes);
        if (progress && !progress(i, total)) throw Error("cancelled");
    }
    r.n_scored = total;
    r.mean_nll = nll_sum / total;
    r.ppl = std::exp(r.mean_nll);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    r.mean_kl = so.reference_run ? kl_sum / total : nan;
    r.top1_agreement = so.reference_run ? static_cast<double>(agree) / total : nan;
    return r;
}

}  // namespace kvscope
