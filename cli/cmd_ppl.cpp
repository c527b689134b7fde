// kvscope-cli ppl: perplexity of a text file under a cache policy, fed token
// by token (StreamingLLM's protocol); progress on stderr every ~5 %.
#include <cinttypes>
#include <cstdio>

#include "command_app.h"
#include "commands.h"
#include "common.h"
#include "kv/kv_policy.h"
#include "eval/perplexity.h"
#include "eval_common.h"
#include "policy_args.h"

namespace kvscope::cli {

int cmd_ppl(const std::vector<std::string>& argv) {
    CommandApp app("ppl");
    ModelArgs model_args;
    TextFileArgs text;
    PolicyFlags policy_flags;
    SessionOptions so;
    add_model_options(app, model_args);
    add_text_file_arguments(app, model_args, text);
    app.add_flag("--reference", so.reference_run, "run a full cache in lock-step: mean KL and top-1 agreement");
    app.add_flag("--swa-full", so.swa_full,
                 "local layers (a model's own window, gemma3) keep every position and mask, as llama.cpp's swa_full: "
                 "its sums exactly, a global layer's memory");
    add_policy_options(app, policy_flags);
    if (!app.parse_arguments(argv)) return 0;
    settle_text_file_arguments(model_args, text);
    so.policy = policy_from_flags(policy_flags);  // usage errors before the (slow) model load

    auto model = load_model(model_args);
    const auto tokens = text_file_tokens(*model, text);
    ProgressLine line("ppl");
    const PerplexityResult r = perplexity(*model, tokens, so, backend_factory(model_args.backend_options()), [&](int32_t done, int32_t total) {
        line.update(done, total);
        return true;
    });
    std::printf("policy      %s\n", so.policy.describe().c_str());
    std::printf("tokens      %zu (%d scored)\n", tokens.size(), r.n_scored);
    std::printf("perplexity  %.4f\n", r.ppl);
    std::printf("mean_nll    %.6f\n", r.mean_nll);
    std::printf("kv_peak     %" PRIu64 " bytes\n", r.peak_kv_bytes);
    std::printf("kv_final    %" PRIu64 " bytes\n", r.final_kv_bytes);
    if (so.reference_run) {
        std::printf("mean_kl     %.6f\n", r.mean_kl);
        std::printf("top1        %.4f\n", r.top1_agreement);
    }
    return 0;
}

}  // namespace kvscope::cli
