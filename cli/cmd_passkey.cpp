// kvscope-cli passkey: retrieval accuracy of a hidden 5-digit key by prompt
// length, depth, window and sinks.
#include <climits>
#include <cmath>
#include <cstdio>

#include "command_app.h"
#include "commands.h"
#include "common.h"
#include "eval/passkey.h"
#include "eval_common.h"
#include "option_values.h"
#include "policy_args.h"

namespace kvscope::cli {
namespace {

std::vector<int32_t> lengths_list(const std::string& text) { return parse_integer_list(text, 1, INT32_MAX); }
std::vector<double> depths_list(const std::string& text) { return parse_number_list(text, 0.0, 1.0); }
// Windows and sinks: 0 (full cache, no sinks) or more.
std::vector<int32_t> windows_list(const std::string& text) { return parse_integer_list(text, 0, INT32_MAX); }

}  // namespace

int cmd_passkey(const std::vector<std::string>& argv) {
    CommandApp app("passkey");
    ModelArgs model_args;
    PasskeyGrid grid;
    grid.lengths = {512};
    grid.depths = {0.0, 0.5, 1.0};
    PolicyFlags storage;  // the grid sets the window and sinks; --kv-type and --positions apply
    add_model_argument(app, model_args);
    add_model_options(app, model_args);
    add_parsed_option(app, "--lengths", grid.lengths, lengths_list, "prompt lengths in tokens")
        ->type_name("N,...")->default_str(comma_list(grid.lengths));
    add_parsed_option(app, "--depths", grid.depths, depths_list, "where the key sits: 0 = start, 1 = end")
        ->type_name("D,...")->default_str(comma_list(grid.depths));
    add_parsed_option(app, "--windows", grid.windows, windows_list, "windows W to try; 0 = full cache")
        ->type_name("W,...")->default_str(comma_list(grid.windows));
    add_parsed_option(app, "--sinks", grid.sinks, windows_list, "sink counts S to try (with a window)")
        ->type_name("S,...")->default_str(comma_list(grid.sinks));
    app.add_option("--trials", grid.trials, "keys per setting")->type_name("N")->check(integer_in(1, 100000));
    app.add_option("--seed", grid.seed, "random seed of the keys and filler")->type_name("S")
        ->check(integer_in(0, INT64_MAX));
    add_storage_options(app, storage);
    if (!app.parse_arguments(argv)) return 0;
    SessionOptions so;
    so.policy = policy_from_flags(storage);

    auto model = load_model(model_args);
    ProgressLine line("passkey");
    const auto rows = passkey_accuracy(*model, so, grid, backend_factory(model_args.backend_options()), [&](int32_t done, int32_t total) {
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
