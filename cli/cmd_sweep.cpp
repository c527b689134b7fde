// kvscope-cli sweep: perplexity of a text file over a grid of windows ×
// sinks (× policies × KV types), as a table on stdout and optionally a CSV.
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "commands.h"
#include "qt_runtime.h"
#if KVSCOPE_HAVE_RENDER
#include "render/scatter_render.h"
#endif
#include "common.h"
#include "kv/kv_policy.h"
#include "eval/sweep.h"
#include "eval_common.h"
#include "util/error.h"

namespace kvscope::cli {
namespace {

template <typename T>
std::vector<T> named_list(const Args& args, const std::string& flag, const std::vector<T>& fallback,
                          const std::vector<std::pair<const char*, T>>& names) {
    auto v = args.value(flag);
    if (!v) return fallback;
    std::vector<T> out;
    for (const std::string& item : split_list(*v)) {
        bool found = false;
        std::string accepted;
        for (const auto& [name, value] : names) {
            accepted += (accepted.empty() ? "" : ", ") + std::string(name);
            if (item == name) {
                out.push_back(value);
                found = true;
            }
        }
        if (!found) throw UsageError("option " + flag + " entries must be among " + accepted + ", got '" + item + "'");
    }
    return out;
}

// Fails before the (long) sweep when the CSV's folder cannot take the file.
void check_writable(const std::string& path) {
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (dir.empty()) dir = ".";
    if (::access(dir.c_str(), W_OK) != 0) throw Error("cannot write '" + path + "': " + std::strerror(errno));
}

}  // namespace

int cmd_sweep(const std::vector<std::string>& argv) {
    auto options = model_value_options();
    options.insert({"--windows", "--sinks", "--policies", "--kv-types", "--positions", "--csv", "--png", "--max-tokens"});
    Args args(argv, options, {"--no-reference"});
    const std::string text_path = text_file_arg(args);
    SweepGrid grid;
    grid.windows = int_list(args, "--windows", {}, 1, INT32_MAX);
    grid.sinks = int_list(args, "--sinks", {0}, 0, INT32_MAX);
    grid.policies = named_list<PolicyKind>(
        args, "--policies", grid.policies,
        {{"full", PolicyKind::Full}, {"window", PolicyKind::Window}, {"sinks", PolicyKind::SinksWindow}});
    grid.kv_types = named_list<KvValueType>(
        args, "--kv-types", grid.kv_types,
        {{"f32", KvValueType::F32}, {"f16", KvValueType::F16}, {"q8_0", KvValueType::Q8_0}});
    const auto positions = named_list<PositionMode>(
        args, "--positions", {PositionMode::Original},
        {{"original", PositionMode::Original}, {"in-cache", PositionMode::InCache}});
    if (positions.size() != 1) throw UsageError("option --positions takes one mode");
    grid.positions = positions[0];
    grid.reference = !args.flag("--no-reference");
    const int threads = thread_count(args);
    args.int_or("--max-tokens", 0, 0, INT32_MAX);
    std::vector<SweepRow> plan;
    try {
        plan = sweep_plan(grid);
    } catch (const InvalidSetting& e) {
        throw UsageError(e.what());
    }

    if (auto csv = args.value("--csv")) check_writable(*csv);
    if (auto png = args.value("--png")) check_writable(*png);

    auto model = load_model_for_text(args);
    const auto tokens = text_file_tokens(*model, text_path, args);
    std::fprintf(stderr, "sweep: %zu settings over %zu tokens%s\n", plan.size(), tokens.size(),
                 grid.reference ? " (with a full-cache reference)" : "");
    ProgressLine line("sweep");
    const auto rows = run_sweep(*model, tokens, grid, SessionOptions{}, threads,
                                [&](size_t row, size_t n_rows, int32_t done, int32_t total) {
                                    line.update(static_cast<int64_t>(row) * total + done,
                                                static_cast<int64_t>(n_rows) * total);
                                    return true;
                                });
    std::printf("%-7s %6s %5s %-5s %14s %10s %10s %7s  %s\n", "policy", "W", "S", "kv", "kv_bytes", "ppl", "mean_kl",
                "top1", "note");
    for (const SweepRow& r : rows) {
        std::printf("%-7s %6d %5d %-5s ", policy_kind_name(r.policy.kind), r.policy.window, r.policy.sinks,
                    kv_value_type_name(r.policy.kv_type));
        if (r.ran())
            std::printf("%14" PRIu64 " %10.4f %10.6f %7.4f\n", r.kv_bytes, r.ppl, r.mean_kl, r.top1);
        else
            std::printf("%14s %10s %10s %7s  %s\n", "-", "-", "-", "-", r.note.c_str());
    }
    if (auto csv = args.value("--csv")) {
        write_sweep_csv(rows, *csv);
        std::fprintf(stderr, "sweep: wrote %s\n", csv->c_str());
    }
    if (auto png = args.value("--png")) {
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
