#include "plots/sweep_worker.h"

#include <exception>
#include <stdexcept>

#include "eval/perplexity.h"

namespace kvscope::gui {

namespace {

std::shared_ptr<const Model> require_model(std::shared_ptr<const Model> model) {
    if (model == nullptr) throw std::invalid_argument("SweepWorker: no model (nullptr)");
    return model;
}

}  // namespace

SweepWorker::SweepWorker(std::shared_ptr<const Model> model, std::vector<TokenId> tokens, std::vector<SweepRow> plan,
                         bool reference, SessionOptions base, BackendFactory backend)
    : model_(require_model(std::move(model))), tokens_(std::move(tokens)), plan_(std::move(plan)),
      reference_(reference), base_(std::move(base)), backend_(std::move(backend)) {
    qRegisterMetaType<kvscope::SweepRow>();
}

void SweepWorker::run() {
    for (size_t i = 0; i < plan_.size(); ++i) {
        if (cancel_.load()) {
            outcome_ = Outcome::Cancelled;
            return;
        }
        SweepRow row = plan_[i];
        const int index = static_cast<int>(i);
        if (row.ran()) {
            // The same options run_sweep gives the row.
            SessionOptions so = base_;
            so.policy = row.policy;
            so.reference_run = reference_;
            try {
                const PerplexityResult r = perplexity(*model_, tokens_, so, backend_, [&](int32_t done, int32_t total) {
                    emit rowProgress(index, done, total);
                    return !cancel_.load();
                });
                row.kv_bytes = r.peak_kv_bytes;
                row.ppl = r.ppl;
                row.mean_kl = r.mean_kl;
                row.top1 = r.top1_agreement;
                row.n_scored = r.n_scored;
            } catch (const std::exception& e) {
                // perplexity() throws "cancelled" when the progress callback says stop.
                outcome_ = cancel_.load() ? Outcome::Cancelled : Outcome::Failed;
                error_ = QStringLiteral("row %1 (%2): %3")
                             .arg(index + 1)
                             .arg(QString::fromStdString(row.policy.describe()), QString::fromUtf8(e.what()));
                return;
            }
        }
        emit rowFinished(index, row);
    }
    outcome_ = Outcome::Done;
}

}  // namespace kvscope::gui
