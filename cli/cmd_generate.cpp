// kvscope-cli generate: decode token by token, as text or one JSON object per step.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "backend/cpu_backend.h"
#include "commands.h"
#include "common.h"
#include "policy_args.h"

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
    auto options = model_value_options();
    options.insert({"-p", "--prompt", "--prompt-file", "--system", "-n", "--temp", "--top-k", "--top-p", "--seed",
                    "--ctx", "--top"});
    for (const auto& o : policy_value_options()) options.insert(o);
    Args args(argv, options, {"--chat", "--json", "--ignore-eos", "--reference"});
    const int64_t n_predict = args.int_or("-n", 64, 0, 1 << 24);
    SessionOptions so;
    so.sampling = sampling_params(args);
    so.n_ctx = static_cast<int32_t>(args.int_or("--ctx", 0, 0, 1 << 30));
    so.top_k_report = static_cast<int32_t>(args.int_or("--top", 5, 1, 1000));
    so.policy = policy_from_args(args);
    so.reference_run = args.flag("--reference");
    so.cache_views = args.flag("--json");
    const int threads = thread_count(args);
    const std::string prompt = prompt_text(args);  // usage errors before the (slow) model load

    auto model = load_model(args);
    const auto ids = model->tokenizer().encode(prompt, true, true);
    Session session(*model, std::make_unique<CpuBackend>(*model, threads), so);
    session.prefill(ids);
    const bool json = args.flag("--json");
    if (!json) std::fwrite(prompt.data(), 1, prompt.size(), stdout);
    double decode_ms = 0;
    int64_t n = 0;
    for (; n < n_predict; ++n) {
        const StepResult r = session.step();
        decode_ms += r.timings.forward_ms + r.timings.sample_ms;
        if (json) {
            print_step_json(model->tokenizer(), r);
        } else {
            std::fwrite(r.text.data(), 1, r.text.size(), stdout);
        }
        std::fflush(stdout);
        if (r.end_of_generation && !args.flag("--ignore-eos")) {
            ++n;
            break;
        }
    }
    if (!json) std::printf("\n");
    std::fprintf(stderr, "prompt %d tokens in %.1f ms (%.1f tok/s); %lld tokens generated, %.1f tok/s\n",
                 session.n_prompt(), session.prefill_ms(), session.n_prompt() * 1000.0 / session.prefill_ms(),
                 static_cast<long long>(n), n > 1 ? (static_cast<double>(n) - 1) * 1000.0 / decode_ms : 0.0);
    return 0;
}

}  // namespace kvscope::cli
