// kvscope-cli bench: prefill and decode speed and peak memory, measured like
// llama.cpp's llama-bench (pp: a prompt of N tokens in one go; tg: N tokens
// decoded one at a time after a one-token start), median over runs.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "command_app.h"
#include "commands.h"
#include "common.h"
#include "option_values.h"
#include "policy_args.h"
#include "util/process_memory.h"
#include "util/simd_level.h"

namespace kvscope::cli {
namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Deterministic pseudo-random prompt tokens (llama-bench also uses random tokens).
std::vector<TokenId> bench_tokens(int32_t n, int32_t n_vocab) {
    std::vector<TokenId> t(static_cast<size_t>(n));
    Rng rng(1234);
    for (auto& id : t) id = static_cast<TokenId>(rng.next() % static_cast<uint64_t>(n_vocab));
    return t;
}

// The warm-up's prompt when the measured one is longer (one prefill batch).
constexpr int32_t kBenchWarmupTokens = 512;

}  // namespace

int cmd_bench(const std::vector<std::string>& argv) {
    CommandApp app("bench");
    ModelArgs model_args;
    PolicyFlags policy_flags;
    SessionOptions so;
    int32_t n_prompt = 128;
    int32_t n_gen = 128;
    int32_t depth = 0;
    int runs = 5;
    bool json = false;
    bool cache_views = false;
    add_model_argument(app, model_args);
    add_model_options(app, model_args);
    app.add_option("-p", n_prompt, "prompt tokens processed in one go (pp)")->type_name("N")->check(integer_in(0, 1 << 20));
    app.add_option("-n", n_gen, "tokens decoded one at a time (tg)")->type_name("N")->check(integer_in(0, 1 << 20));
    app.add_option("-d,--depth", depth, "decode after a prompt of this many tokens (tg at depth, as llama-batched-bench)")
        ->type_name("D")
        ->check(integer_in(0, 1 << 20));
    app.add_option("-r", runs, "runs; the median is reported")->type_name("RUNS")->check(integer_in(1, 1000));
    app.add_flag("--json", json, "print one JSON object");
    // What a step costs beyond decoding: attention capture, cache views, the reference run.
    app.add_flag("--capture", so.capture_attention, "capture attention every step (as the app does)");
    app.add_flag("--cache-views", cache_views, "build the per-layer cache views every step");
    app.add_flag("--reference", so.reference_run, "run a full cache in lock-step");
    app.add_flag("--swa-full", so.swa_full,
                 "local layers (a model's own window, gemma3) keep every position and mask, as llama.cpp's swa_full: "
                 "its sums exactly, a global layer's memory");
    add_policy_options(app, policy_flags);
    if (!app.parse_arguments(argv)) return 0;
    so.policy = policy_from_flags(policy_flags);
    so.cache_views = cache_views || so.capture_attention;
    auto model = load_model(model_args);
    const int32_t n_vocab = model->config().n_vocab;
    so.n_ctx = std::min(model->config().n_ctx_train, std::max(n_prompt, depth + n_gen + 1) + 1);
    // Prompts (pp, and the depth before tg) in batches of up to 512 tokens, llama.cpp's default micro-batch.
    so.prefill_batch = std::max<int32_t>(1, std::min<int32_t>(std::max(n_prompt, depth), 512));
    std::string backend_note;
    Session session(*model, make_cli_backend(*model, model_args, &backend_note), so);

    std::vector<double> pp, tg;
    StepTimings phases;        // summed over the counted decode steps
    int64_t counted_steps = 0;
    // A warm-up first (page faults of the weights, scratch growth): a whole run,
    // as llama-bench does, up to one batch of 512 tokens; past that, one batch
    // and two steps (llama-batched-bench warms up with 16 tokens), so that a
    // measurement at 8,192 positions does not take twice its time.
    const bool long_runs = std::max(n_prompt, depth) > kBenchWarmupTokens;
    if (long_runs) {
        session.prefill(bench_tokens(kBenchWarmupTokens, n_vocab));
        for (int i = 0; i < 2; ++i) session.step();
    }
    const int first_run = long_runs ? 0 : -1;  // -1: the warm-up is a whole run, not counted
    for (int r = first_run; r < runs; ++r) {
        if (n_prompt > 0) {
            const auto t0 = std::chrono::steady_clock::now();
            session.prefill(bench_tokens(n_prompt, n_vocab));
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (r >= 0) pp.push_back(n_prompt / s);
        }
        if (n_gen > 0) {
            session.prefill(bench_tokens(std::max(1, depth), n_vocab));
            const auto t0 = std::chrono::steady_clock::now();
            // n_gen forward passes: the first step samples from the prefill's
            // logits, so one extra step feeds the last token.
            for (int32_t i = 0; i <= n_gen; ++i) {
                const StepSnapshot step = session.step();
                if (r < 0 || i == 0) continue;  // step 0 only samples from the prefill's logits
                phases.policy_ms += step.timings.policy_ms;
                phases.forward_ms += step.timings.forward_ms;
                phases.capture_ms += step.timings.capture_ms;
                phases.sample_ms += step.timings.sample_ms;
                phases.reference_ms += step.timings.reference_ms;
                ++counted_steps;
            }
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (r >= 0) tg.push_back(n_gen / s);
        }
    }
    const double peak_mib = static_cast<double>(peak_rss_bytes()) / (1 << 20);
    // What the backend holds after the last run: device memory (VRAM on a GPU) and its own tally.
    const BackendMemory bm = session.backend().memory();
    const double kv_mib = static_cast<double>(session.cache().bytes_held()) / (1 << 20);
    if (json) {
        nlohmann::json j = {{"model", model->file().source_name()}, {"backend", session.backend().name()},
                            {"cpu_simd", simd_level_name(active_simd_level())}, {"threads", model_args.threads}, {"runs", runs},
                            {"policy", so.policy.describe()}, {"capture", so.capture_attention},
                            {"reference", so.reference_run},
                            {"n_prompt", n_prompt}, {"n_gen", n_gen}, {"depth", depth}, {"peak_rss_mib", peak_mib},
                            {"kv_mib", kv_mib}, {"weights_mib", static_cast<double>(bm.weights_bytes) / (1 << 20)},
                            {"scratch_mib", static_cast<double>(bm.scratch_bytes) / (1 << 20)},
                            {"device_used_mib", static_cast<double>(bm.device_used) / (1 << 20)},
                            {"device_total_mib", static_cast<double>(bm.device_total) / (1 << 20)},
                            {"device_is_host", bm.device_is_host}};
        if (!pp.empty()) j["pp_tokens_per_s"] = median(pp);
        if (!tg.empty()) j["tg_tokens_per_s"] = median(tg);
        if (counted_steps > 0) {
            const double n = static_cast<double>(counted_steps);
            j["step_ms"] = {{"policy", phases.policy_ms / n}, {"forward", phases.forward_ms / n},
                            {"capture", phases.capture_ms / n}, {"sample", phases.sample_ms / n},
                            {"reference", phases.reference_ms / n}};
        }
        std::printf("%s\n", j.dump().c_str());
        return 0;
    }
    std::printf("model: %s, backend %s (CPU kernels %s), %d threads, %d runs (median), %s%s%s\n",
                model->file().source_name().c_str(), session.backend().name().c_str(),
                simd_level_name(active_simd_level()), model_args.threads, runs, so.policy.describe().c_str(),
                so.capture_attention ? ", capture on" : "",
                so.reference_run ? ", reference on" : "");
    if (!pp.empty()) std::printf("pp%-5d %10.2f tokens/s\n", n_prompt, median(pp));
    if (!tg.empty()) std::printf("tg%-5d %10.2f tokens/s%s\n", n_gen, median(tg),
                                 depth > 0 ? (" after " + std::to_string(depth) + " positions").c_str() : "");
    if (counted_steps > 0) {
        // Each phase's mean over the decode steps: a policy's own cost is its "policy" share.
        const double n = static_cast<double>(counted_steps);
        std::printf("per step   policy %.3f ms, forward %.3f ms, capture %.3f ms, sample %.3f ms, reference %.3f ms\n",
                    phases.policy_ms / n, phases.forward_ms / n, phases.capture_ms / n, phases.sample_ms / n,
                    phases.reference_ms / n);
    }
    std::printf("peak RSS %.1f MiB; KV %.1f MiB; weights %.1f MiB; scratch %.1f MiB\n", peak_mib, kv_mib,
                static_cast<double>(bm.weights_bytes) / (1 << 20), static_cast<double>(bm.scratch_bytes) / (1 << 20));
    if (!bm.device_is_host)
        std::printf("device %s: %.1f of %.1f MiB in use\n", bm.device_name.c_str(),
                    static_cast<double>(bm.device_used) / (1 << 20), static_cast<double>(bm.device_total) / (1 << 20));
    return 0;
}

}  // namespace kvscope::cli
