#include "core/decode_worker.h"

#include <QElapsedTimer>
#include <QTimer>

#include <algorithm>

#include "backends/backend_factory.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace kvscope::gui {

namespace {

std::vector<TokenId> prompt_tokens(const Model& model, const RunSettings& s) {
    if (!s.prompt_tokens.empty()) {
        for (int32_t id : s.prompt_tokens)
            if (id < 0 || id >= model.config().n_vocab)
                throw InvalidSetting("the prompt has token id " + std::to_string(id) + ", outside this model's vocabulary (0.." +
                                     std::to_string(model.config().n_vocab - 1) + "): it was run with another model");
        return s.prompt_tokens;
    }
    std::string text = s.prompt;
    if (s.chat_template) {
        // ChatML and Gemma's turns are implemented; wrapping another model's prompt in ChatML would mislead.
        const ChatFormat format = chat_format_for(model.config().architecture);
        if (format == ChatFormat::ChatML && model.chat_template().find("<|im_start|>") == std::string::npos)
            throw InvalidSetting("this model has no ChatML chat template; turn \"Chat template\" off to run the prompt as plain text");
        text = apply_chat(format, {{"user", s.prompt}}, true);
    }
    // Special tokens in the text are parsed, as llama.cpp's tools do.
    return model.tokenizer().encode(text, true, true);
}

}  // namespace

DecodeWorker::DecodeWorker() = default;
DecodeWorker::~DecodeWorker() = default;

void DecodeWorker::loadModel(const QString& path) {
    if (running_) stopRun(QString());
    QElapsedTimer timer;
    timer.start();
    try {
        std::shared_ptr<const Model> model = Model::load(path.toStdString());
        session_.reset();  // the session refers to the old model
        trace_.reset();
        model_ = std::move(model);
        emit modelLoaded(model_, path, static_cast<double>(timer.nsecsElapsed()) / 1e6);
    } catch (const std::exception& e) {
        emit modelFailed(path, QString::fromStdString(e.what()));
    }
}

void DecodeWorker::startRun(const RunSettings& settings, bool run_after) {
    if (running_) stopRun(QString());
    if (!model_) {
        emit failed(tr("No model is loaded."));
        return;
    }
    try {
        RunSettings s = settings;
        s.options.capture_attention = true;  // the views need it
        s.options.cache_views = true;
        const std::vector<TokenId> prompt = prompt_tokens(*model_, s);
        s.options.validate(model_->config());
        auto session = std::make_unique<Session>(*model_, make_backend(*model_, s.backend), s.options);
        TraceOptions trace_options;
        trace_options.budget_bytes = s.trace_budget_bytes;
        session->prefill(prompt);
        auto trace = std::make_shared<SharedTrace>(Trace(trace_header_for(*model_, *session, prompt), trace_options));
        auto prefill = std::make_shared<const StepSnapshot>(session->prefill_snapshot());
        {
            std::lock_guard<std::mutex> lock(trace->mutex);
            trace->trace.set_prefill(*prefill);
        }
        session_ = std::move(session);
        trace_ = trace;
        settings_ = s;
        steps_done_ = 0;
        ended_ = false;
        emit runStarted(trace_, settings_);
        in_flight_.fetch_add(1);
        emit prefilled(prefill);
    } catch (const std::exception& e) {
        // The previous session (if any) stays as it was, and is not resumed.
        emit failed(QString::fromStdString(e.what()));
        return;
    }
    if (run_after) stepTokens(0);
}

void DecodeWorker::stepTokens(int n) {
    if (!session_) {
        emit failed(tr("Nothing to step: press Reset to run the prompt first."));
        return;
    }
    if (ended_) {
        emit runStopped(tr("The run has ended; press Reset or Replay to start again."));
        return;
    }
    pause_requested_.store(false);
    remaining_ = n <= 0 ? -1 : n;
    if (!running_) {
        running_ = true;
        ++chain_;  // a tick still queued from an earlier Run must not start a second chain
        emit busyChanged(true);
        scheduleTick(0);
    }
}

void DecodeWorker::scheduleTick(int delay_ms) {
    QTimer::singleShot(delay_ms, this, [this, chain = chain_] {
        if (chain == chain_) tick();
    });
}

void DecodeWorker::tick() {
    if (!running_) return;
    if (!session_) {
        stopRun(tr("No session."));
        return;
    }
    if (pause_requested_.exchange(false)) {
        stopRun(QString());
        return;
    }
    if (in_flight_.load() >= kMaxInFlight) {  // the GUI is behind: wait for it
        scheduleTick(2);
        return;
    }
    QString reason;
    if (!stepOnce(&reason)) {
        stopRun(reason);
        return;
    }
    if (remaining_ > 0 && --remaining_ == 0) {
        stopRun(QString());
        return;
    }
    scheduleTick(step_delay_ms_.load());
}

bool DecodeWorker::stepOnce(QString* stop_reason) {
    const bool replaying = !settings_.forced.empty();
    const auto limit = replaying ? static_cast<int32_t>(settings_.forced.size()) : settings_.max_new_tokens;
    if (steps_done_ >= limit) {
        ended_ = true;
        *stop_reason = replaying ? tr("Replay finished: %1 tokens re-run under the new settings.").arg(limit)
                                 : tr("Reached the limit of %1 new tokens.").arg(limit);
        return false;
    }
    try {
        std::optional<TokenId> forced;
        if (replaying) forced = settings_.forced[static_cast<size_t>(steps_done_)];
        auto snap = std::make_shared<const StepSnapshot>(session_->step(forced));
        // Encoded outside the lock (prepare reads only the header, which never
        // changes), so the GUI thread's reads wait for the store, not the encoding.
        Trace::Prepared prepared = trace_->trace.prepare(*snap);
        {
            std::lock_guard<std::mutex> lock(trace_->mutex);
            trace_->trace.add_prepared(std::move(prepared));
        }
        ++steps_done_;
        in_flight_.fetch_add(1);
        emit stepped(snap);
        if (snap->end_of_generation && !replaying) {
            ended_ = true;
            *stop_reason = tr("End of generation (the model produced an end token).");
            return false;
        }
        return true;
    } catch (const std::exception& e) {
        ended_ = true;  // context full, or an engine error: this run cannot go on
        *stop_reason = QString::fromStdString(e.what());
        return false;
    }
}

void DecodeWorker::stopRun(const QString& reason) {
    const bool was_running = running_;
    running_ = false;
    remaining_ = 0;
    if (was_running) emit busyChanged(false);
    emit runStopped(reason);
}

void DecodeWorker::setPolicy(const PolicyConfig& policy) {
    if (!session_) {
        emit failed(tr("No run to apply the policy to; it will be used at the next Reset."));
        return;
    }
    try {
        session_->set_policy(policy);
        settings_.options.policy = policy;
        emit policyApplied(policy);
    } catch (const std::exception& e) {
        emit failed(QString::fromStdString(e.what()));
    }
}

void DecodeWorker::shutdown() {
    running_ = false;
    session_.reset();
    trace_.reset();
    model_.reset();
}

}  // namespace kvscope::gui
