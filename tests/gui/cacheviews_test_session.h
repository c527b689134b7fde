#pragma once
// Real sessions for the cacheviews tests: SmolLM2 decoding a few steps under a
// given policy, with every snapshot kept (prefill first).
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "model/model.h"
#include "session/session.h"
#include "session/step_snapshot.h"

namespace kvscope::test {

struct RecordedSession {
    std::unique_ptr<Session> session;
    std::vector<StepSnapshot> steps;  // [n_steps] snapshots of step()
};

inline RecordedSession record_session(const Model& model, const PolicyConfig& policy, int n_steps,
                                      const std::string& prompt = "The capital of France is",
                                      bool reference_run = false, int32_t n_ctx = 256) {
    SessionOptions opt;
    opt.n_ctx = n_ctx;
    opt.capture_attention = true;
    opt.reference_run = reference_run;
    opt.policy = policy;
    RecordedSession r;
    r.session = std::make_unique<Session>(model, std::make_unique<CpuBackend>(model, 2), opt);
    r.session->prefill(model.tokenizer().encode(prompt, /*add_special=*/true, /*parse_special=*/false));
    for (int i = 0; i < n_steps; ++i) r.steps.push_back(r.session->step());
    return r;
}

inline PolicyConfig sinks_window_policy(int32_t window, int32_t sinks) {
    PolicyConfig p;
    p.kind = PolicyKind::SinksWindow;
    p.window = window;
    p.sinks = sinks;
    return p;
}

inline PolicyConfig global_policy(int32_t window, std::set<int32_t> pins) {
    PolicyConfig p;
    p.kind = PolicyKind::Global;
    p.window = window;
    p.pins = std::move(pins);
    return p;
}

// The piece of the token at `position` of the session's text.
inline std::string piece_at(const Session& s, int32_t position) {
    return s.model().tokenizer().token_to_piece(s.tokens().at(static_cast<size_t>(position)));
}

}  // namespace kvscope::test
