// kvscope-cli heatmap: the attention heatmap of one layer and head (or the
// mean/max over heads) for a run, as PNG/SVG/PDF and CSV, without a display.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "backend/cpu_backend.h"
#include "commands.h"
#include "common.h"
#include "policy_args.h"
#include "qt_runtime.h"

#if KVSCOPE_HAVE_RENDER
#include "render/heatmap_data.h"
#include "render/heatmap_render.h"
#endif

namespace kvscope::cli {

#if KVSCOPE_HAVE_RENDER
namespace {

enum class HeadReduce { One, Mean, Max };

// One value per held key of a query row: a head's probability, or the mean/max over heads.
float reduce_heads(const LayerAttention& la, size_t key, int32_t n_head, HeadReduce how, int32_t head) {
    const size_t n_keys = la.key_positions.size();
    if (how == HeadReduce::One) return la.probs[static_cast<size_t>(head) * n_keys + key];
    float acc = 0.0f;
    for (int32_t h = 0; h < n_head; ++h) {
        const float p = la.probs[static_cast<size_t>(h) * n_keys + key];
        acc = how == HeadReduce::Max ? std::max(acc, p) : acc + p;
    }
    return how == HeadReduce::Mean ? acc / static_cast<float>(n_head) : acc;
}

}  // namespace
#endif

int cmd_heatmap(const std::vector<std::string>& argv) {
    auto options = model_value_options();
    options.insert({"-p", "--prompt", "--prompt-file", "--system", "-n", "--layer", "--head", "--out", "--csv", "--ctx",
                    "--width", "--height"});
    for (const auto& o : policy_value_options()) options.insert(o);
    Args args(argv, options, {"--chat", "--log"});
#if !KVSCOPE_HAVE_RENDER
    throw Error("this kvscope-cli was built without Qt: heatmap needs the render library (rebuild with -DKVSCOPE_QT=ON)");
#else
    const auto out = args.value("--out");
    const auto csv = args.value("--csv");
    if (!out && !csv) throw UsageError("give --out FILE.png|.svg|.pdf and/or --csv FILE.csv");
    const int64_t n_predict = args.int_or("-n", 16, 0, 1 << 20);
    const std::string head_arg = args.value_or("--head", "mean");
    HeadReduce how = HeadReduce::One;
    int32_t head = 0;
    if (head_arg == "mean") how = HeadReduce::Mean;
    else if (head_arg == "max") how = HeadReduce::Max;
    else head = static_cast<int32_t>(args.int_or("--head", 0, 0, 4096));
    SessionOptions so;
    so.policy = policy_from_args(args);
    so.capture_attention = true;
    so.n_ctx = static_cast<int32_t>(args.int_or("--ctx", 0, 0, 1 << 30));
    const std::string prompt = prompt_text(args);
    const int threads = thread_count(args);

    auto model = load_model(args);
    const ModelConfig& c = model->config();
    const int32_t layer = static_cast<int32_t>(args.int_or("--layer", 0, 0, c.n_layer - 1));
    if (how == HeadReduce::One && head >= c.n_head)
        throw UsageError("option --head must be between 0 and " + std::to_string(c.n_head - 1) + ", mean or max, got " + head_arg);
    Session session(*model, std::make_unique<CpuBackend>(*model, threads), so);
    session.prefill(model->tokenizer().encode(prompt, true, true));
    std::vector<QueryAttention> rows = session.prefill_snapshot().attention;
    for (int64_t i = 0; i < n_predict; ++i) {
        StepSnapshot s = session.step();
        for (auto& q : s.attention) rows.push_back(std::move(q));
        if (s.end_of_generation) break;
    }

    render::HeatmapData d;
    const PolicyConfig& policy = session.policy();
    const int32_t n_keys = rows.empty() ? 0 : rows.back().position + 1;
    for (int32_t k = 0; k < n_keys; ++k) {
        d.key_positions.push_back(k);
        d.key_labels.push_back(model->tokenizer().token_to_piece(session.tokens()[static_cast<size_t>(k)]));
    }
    d.values.assign(rows.size() * static_cast<size_t>(n_keys), std::numeric_limits<float>::quiet_NaN());
    for (size_t r = 0; r < rows.size(); ++r) {
        const QueryAttention& q = rows[r];
        d.query_positions.push_back(q.position);
        d.query_labels.push_back(model->tokenizer().token_to_piece(session.tokens()[static_cast<size_t>(q.position)]));
        const LayerAttention& la = q.layers[static_cast<size_t>(layer)];
        for (size_t j = 0; j < la.key_positions.size(); ++j)
            d.values[r * static_cast<size_t>(n_keys) + static_cast<size_t>(la.key_positions[j])] =
                reduce_heads(la, j, c.n_head, how, head);
        if (!policy.layer_is_full(layer) && policy.kind != PolicyKind::H2O) {
            const int32_t w = policy.window_at(q.position + 1);
            const int32_t recent = policy.kind == PolicyKind::SinksWindow ? w - policy.sinks : w;
            if (w > 0) d.window_edges.push_back({q.position, std::max(0, q.position - recent + 1)});
        }
    }
    if (policy.kind == PolicyKind::SinksWindow)
        for (int32_t s = 0; s < policy.sinks && s < n_keys; ++s) d.sink_columns.push_back(s);
    if (policy.kind == PolicyKind::Global)
        for (int32_t k = 0; k < n_keys; ++k)
            if (policy.pins.count(k) || (policy.pin_every > 0 && k % policy.pin_every == 0)) d.global_columns.push_back(k);
    d.title = "layer " + std::to_string(layer) + ", head " + head_arg + " — " + policy.describe();

    ensure_runtime_dir();
    if (csv) render::write_heatmap_csv(d, *csv);
    if (out) {
        render::HeatmapStyle style;
        style.scale = args.flag("--log") ? render::ColorScale::Log : render::ColorScale::Linear;
        style.width = static_cast<int>(args.int_or("--width", style.width, 64, 16384));
        style.height = static_cast<int>(args.int_or("--height", style.height, 64, 16384));
        render::render_heatmap(d, style, *out);
    }
    std::fprintf(stderr, "heatmap: %zu query rows × %d key positions%s%s%s%s\n", rows.size(), n_keys,
                 out ? " -> " : "", out ? out->c_str() : "", csv ? " and " : "", csv ? csv->c_str() : "");
    return 0;
#endif
}

}  // namespace kvscope::cli
