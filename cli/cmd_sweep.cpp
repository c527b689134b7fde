// kvscope-cli sweep: perplexity of a text file over a grid of windows ×
// sinks (× policies × KV types), as a table on stdout and optionally a CSV.
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "command_app.h"
#include "commands.h"
#include "qt_runtime.h"
#if KVSCOPE_HAVE_RENDER
#include "render/scatter_render.h"
#endif
#include "common.h"
#include "kv/kv_policy.h"
#include "eval/sweep.h"
#include "eval_common.h"
#include "option_values.h"
#include "policy_args.h"
#include "usage_error.h"
#include "util/error.h"

namespace kvscope::cli {
namespace {

std::vector<int32_t> window_list(const std::string& text) { return parse_integer_list(text, 1, INT32_MAX); }
std::vector<int32_t> sink_list(const std::string& text) { return parse_integer_list(text, 0, INT32_MAX); }

// Fails before the (long) sweep when the CSV's folder cannot take the file.
void check_writable(const std::string& path) {
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (dir.empty()) dir = ".";
    if (::access(dir.c_str(), W_OK) != 0) throw Error("cannot write '" + path + "': " + std::strerror(errno));
}

}  // namespace

int cmd_sweep(const std::vector<std::string>& argv) {
    CommandApp app("sweep");
    ModelArgs model_args;
    TextFileArgs text;
    SweepGrid grid;
    PolicyFlags storage;  // --positions
    std::optional<std::string> csv;
    std::optional<std::string> png;
    bool no_reference = false;
    add_model_options(app, model_args);
    add_text_file_arguments(app, model_args, text);
    add_parsed_option(app, "--windows", grid.windows, window_list, "windows W to try (the budgets of h2o, tova, knorm, keydiff)")->type_name("W,...");
    add_parsed_option(app, "--sinks", grid.sinks, sink_list, "sink counts S to try (sinks policy)")
        ->type_name("S,...")->default_str(comma_list(grid.sinks));
    // The sweep varies a size (window or budget) and the sinks: the registry's sweepable policies.
    const auto sweepable = names_of(sweep_policies(), policy_kind_name);
    add_parsed_option(app, "--policies", grid.policies, list_of(sweepable),
                      "policies to try: " + names_text(sweepable) + " (h2o, tova, knorm, keydiff: each W as their budget)")
        ->type_name("NAME,...")->default_str(comma_list(grid.policies, policy_kind_name));
    add_parsed_option(app, "--kv-types", grid.kv_types, list_of(kv_type_names()),
                      "KV types to try: " + names_text(kv_type_names()))
        ->type_name("TYPE,...")->default_str(comma_list(grid.kv_types, kv_value_type_name));
    app.add_option("--csv", csv, "also write the table as CSV")->type_name("FILE");
    app.add_option("--png", png, "plot KV bytes against perplexity, with the Pareto front")->type_name("FILE");
    app.add_flag("--no-reference", no_reference, "skip the full-cache reference (no KL or top-1; half the work)");
    add_positions_option(app, storage);
    if (!app.parse_arguments(argv)) return 0;
    settle_text_file_arguments(model_args, text);
    grid.positions = storage.positions.value_or(grid.positions);
    grid.reference = !no_reference;
    std::vector<SweepRow> plan;
    try {
        plan = sweep_plan(grid);
    } catch (const InvalidSetting& e) {
        throw UsageError(e.what());
    }

    if (csv) check_writable(*csv);
    if (png) check_writable(*png);

    auto model = load_model(model_args);
    const auto tokens = text_file_tokens(*model, text);
    std::fprintf(stderr, "sweep: %zu settings over %zu tokens%s\n", plan.size(), tokens.size(),
                 grid.reference ? " (with a full-cache reference)" : "");
    ProgressLine line("sweep");
    const auto rows = run_sweep(*model, tokens, grid, SessionOptions{}, backend_factory(model_args.backend_options()),
                                [&](size_t row, size_t n_rows, int32_t done, int32_t total) {
                                    line.update(static_cast<int64_t>(row) * total + done,
                                                static_cast<int64_t>(n_rows) * total);
                                    return true;
                                });
    std::printf("%-7s %6s %5s %-5s %14s %10s %10s %7s  %s\n", "policy", "W", "S", "kv", "kv_bytes", "ppl", "mean_kl",
                "top1", "note");
    for (const SweepRow& r : rows) {
        std::printf("%-7s %6d %5d %-5s ", policy_kind_name(r.policy.kind), sweep_size(r.policy), r.policy.sinks,
                    kv_value_type_name(r.policy.kv_type));
        if (r.ran())
            std::printf("%14" PRIu64 " %10.4f %10.6f %7.4f\n", r.kv_bytes, r.ppl, r.mean_kl, r.top1);
        else
            std::printf("%14s %10s %10s %7s  %s\n", "-", "-", "-", "-", r.note.c_str());
    }
    if (csv) {
        write_sweep_csv(rows, *csv);
        std::fprintf(stderr, "sweep: wrote %s\n", csv->c_str());
    }
    if (png) {
#if KVSCOPE_HAVE_RENDER
        // KV bytes against perplexity, the Pareto front (least memory for the quality) drawn through.
        std::vector<render::ScatterPoint> points;
        for (const SweepRow& r : rows)
            if (r.ran()) {
                const std::string d = r.policy.describe();
                points.push_back({d.substr(0, d.find(' ')), static_cast<double>(r.kv_bytes), r.ppl});
            }
        ensure_runtime_dir();
        render::render_pareto_scatter(points, *png, "KV bytes vs perplexity (" + std::to_string(tokens.size()) + " tokens)");
        std::fprintf(stderr, "sweep: wrote %s\n", png->c_str());
#else
        throw Error("this kvscope-cli was built without Qt: --png needs the render library");
#endif
    }
    return 0;
}

}  // namespace kvscope::cli
