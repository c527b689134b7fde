// kvscope-cli generate: decode token by token, as text or one JSON object per step.
#include <cstdio>
#include <optional>

#include <nlohmann/json.hpp>

#include "command_app.h"
#include "commands.h"
#include "common.h"
#include "option_values.h"
#include "policy_args.h"
#include "session/trace.h"
#include "session/trace_io.h"

namespace kvscope::cli {
namespace {

void print_step_json(const Tokenizer& tok, const StepResult& r) {
    nlohmann::json j;
    j["step"] = r.step;
    j["position"] = r.position;
    j["token"] = r.token;
    j["text"] = r.text;
    j["eog"] = r.end_of_generation;
    j["forward_ms"] = r.timings.forward_ms;
    auto& top = j["top"] = nlohmann::json::array();
    for (const auto& c : r.top)
        top.push_back({{"id", c.id}, {"text", tok.token_to_piece(c.id)}, {"logit", c.logit}, {"prob", c.probability}});
    // The cache after this step: held positions as [first, last] runs per layer, what was evicted.
    auto& layers = j["layers"] = nlohmann::json::array();
    for (const LayerCacheView& v : r.layers) {
        nlohmann::json runs = nlohmann::json::array();
        for (size_t i = 0; i < v.held_positions.size();) {
            size_t e = i;
            while (e + 1 < v.held_positions.size() && v.held_positions[e + 1] == v.held_positions[e] + 1) ++e;
            runs.push_back({v.held_positions[i], v.held_positions[e]});
            i = e + 1;
        }
        layers.push_back({{"held", v.held_positions.size()}, {"runs", runs}, {"evicted", v.evicted}});
    }
    j["kv_bytes"] = r.memory.kv_bytes;
    j["kv_full_bytes"] = r.memory.kv_full_bytes;
    j["policy"] = r.policy;
    if (r.reference)
        j["reference"] = {{"kl", r.reference->kl_full_policy},
                          {"top1_agrees", r.reference->top1_agrees},
                          {"evicted_attention_mass", r.reference->evicted_attention_mass},
                          {"attention_cosine", r.reference->attention_cosine}};
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

}  // namespace

int cmd_generate(const std::vector<std::string>& argv) {
    CommandApp app("generate");
    ModelArgs model_args;
    PromptArgs prompt_args;
    SessionOptions so;
    PolicyFlags policy_flags;
    int64_t n_predict = 64;
    bool json = false;
    bool ignore_eos = false;
    std::optional<std::string> trace_prefix;
    int64_t trace_budget_mib = 1024;
    add_model_argument(app, model_args);
    add_model_options(app, model_args);
    add_prompt_options(app, prompt_args);
    app.add_option("-n", n_predict, "tokens to generate")->type_name("N")->check(integer_in(0, 1 << 24));
    add_sampling_options(app, so.sampling);
    app.add_option("--ctx", so.n_ctx, "context length; 0 = the model's")->type_name("N")->check(integer_in(0, 1 << 30));
    app.add_option("--top", so.top_k_report, "candidates reported per step")->type_name("N")->check(integer_in(1, 1000));
    app.add_flag("--json", json, "one JSON object per step (token, candidates, cache contents)");
    app.add_flag("--ignore-eos", ignore_eos, "go on after the end-of-generation token");
    app.add_flag("--reference", so.reference_run, "run a full cache in lock-step: KL, top-1 agreement, evicted mass");
    app.add_flag("--swa-full", so.swa_full,
                 "local layers (a model's own window, gemma3) keep every position and mask, as llama.cpp's swa_full: "
                 "its sums exactly, a global layer's memory");
    app.add_option("--trace", trace_prefix, "save every step to PREFIX.json and PREFIX.attn.bin")->type_name("PREFIX");
    app.add_option("--trace-budget", trace_budget_mib, "memory for the trace")->type_name("MiB")
        ->check(integer_in(1, 1 << 20));
    add_policy_options(app, policy_flags);
    if (!app.parse_arguments(argv)) return 0;
    so.policy = policy_from_flags(policy_flags);
    so.cache_views = json || trace_prefix.has_value();
    so.capture_attention = trace_prefix.has_value();
    TraceOptions trace_options;
    trace_options.budget_bytes = static_cast<uint64_t>(trace_budget_mib) << 20;
    const std::string prompt_read = prompt_text(prompt_args);  // usage errors before the (slow) model load

    auto model = load_model(model_args);
    const std::string prompt = prompt_for_model(prompt_args, prompt_read, model->config());
    const auto ids = model->tokenizer().encode(prompt, true, true);
    std::string backend_note;
    Session session(*model, make_cli_backend(*model, model_args, &backend_note), so);
    if (const std::string note = native_window_note(so.policy, model->config(), so.swa_full); !note.empty())
        std::fprintf(stderr, "cache: %s\n", note.c_str());
    session.prefill(ids);
    std::unique_ptr<Trace> trace;
    if (trace_prefix) {
        // The whole run, within the memory budget, for kvscope-cli heatmap / the app to redraw later.
        TraceHeader h = trace_header_for(*model, session, ids);
        // A policy that bounds every layer may run past the context length.
        h.n_ctx = std::max<int32_t>(session.n_ctx(), static_cast<int32_t>(ids.size() + static_cast<size_t>(n_predict) + 1));
        trace = std::make_unique<Trace>(h, trace_options);
        trace->set_prefill(session.prefill_snapshot());
    }
    if (!json) std::fwrite(prompt.data(), 1, prompt.size(), stdout);
    double decode_ms = 0;
    int64_t n = 0;
    for (; n < n_predict; ++n) {
        const StepResult r = session.step();
        if (trace) trace->add(r);
        decode_ms += r.timings.forward_ms + r.timings.sample_ms;
        if (json) {
            print_step_json(model->tokenizer(), r);
        } else {
            std::fwrite(r.text.data(), 1, r.text.size(), stdout);
        }
        std::fflush(stdout);
        if (r.end_of_generation && !ignore_eos) {
            ++n;
            break;
        }
    }
    if (!json) std::printf("\n");
    std::fflush(stdout);  // the text before the statistics on stderr, also when both go to one pipe
    if (trace) {
        export_trace(*trace, *trace_prefix);
        std::fprintf(stderr, "trace: %zu steps in %s.json and %s.attn.bin%s%s\n", trace->size(), trace_prefix->c_str(),
                     trace_prefix->c_str(), trace->budget_reached() ? "; " : "",
                     trace->budget_reached() ? trace->budget_message().c_str() : "");
    }
    std::fprintf(stderr, "prompt %d tokens in %.1f ms (%.1f tok/s); %lld tokens generated, %.1f tok/s; %s\n",
                 session.n_prompt(), session.prefill_ms(), session.n_prompt() * 1000.0 / session.prefill_ms(),
                 static_cast<long long>(n), n > 1 ? (static_cast<double>(n) - 1) * 1000.0 / decode_ms : 0.0,
                 backend_note.c_str());
    return 0;
}

}  // namespace kvscope::cli
