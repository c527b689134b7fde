// kvscope-cli passkey: retrieval accuracy of a hidden 5-digit key by prompt
// length, depth, window and sinks.
#include <cmath>
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "eval/passkey.h"
#include "eval_common.h"
#include "policy_args.h"

namespace kvscope::cli {

int cmd_passkey(const std::vector<std::string>& argv) {
    auto options = model_value_options();
    options.insert({"--lengths", "--depths", "--windows", "--sinks", "--trials", "--seed", "--kv-type", "--positions"});
    Args args(argv, options, {});
    if (args.positionals().size() > 1) throw UsageError("too many arguments: give [MODEL] and options");
    PasskeyGrid grid;
    grid.lengths = int_list(args, "--lengths", {512}, 1, INT32_MAX);
    grid.depths = number_list(args, "--depths", {0.0, 0.5, 1.0}, 0.0, 1.0);
    grid.windows = int_list(args, "--windows", {0}, 0, INT32_MAX);
    grid.sinks = int_list(args, "--sinks", {0}, 0, INT32_MAX);
    grid.trials = static_cast<int32_t>(args.int_or("--trials", 1, 1, 100000));
    grid.seed = static_cast<uint64_t>(args.int_or("--seed", 1, 0, INT64_MAX));
    SessionOptions so;
    // Only the KV type and position mode of the policy flags apply here.
    std::vector<std::string> policy_argv;
    for (const char* name : {"--kv-type", "--positions"})
        if (auto v = args.value(name)) policy_argv.insert(policy_argv.end(), {name, *v});
    so.policy = policy_from_args(Args(policy_argv, policy_value_options(), {}));
    const int threads = thread_count(args);

    auto model = load_model(args);
    ProgressLine line("passkey");
    const auto rows = passkey_accuracy(*model, so, grid, threads, [&](int32_t done, int32_t total) {
        line.update(done, total);
        return true;
    });
    std::printf("%7s %6s %6s %5s %7s %9s  %s\n", "length", "depth", "W", "S", "trials", "accuracy", "note");
    for (const PasskeyRow& r : rows) {
        std::printf("%7d %6.2f %6d %5d %7d ", r.length, r.depth, r.window, r.sinks, r.trials);
        if (std::isnan(r.accuracy))
            std::printf("%9s  %s\n", "-", r.note.c_str());
        else
            std::printf("%9.3f\n", r.accuracy);
    }
    return 0;
}

}  // namespace kvscope::cli
