// kvscope-cli heatmap: the attention heatmap of one layer and head (or the
// mean/max over heads) for a run, as PNG/SVG/PDF and CSV, without a display.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>

#include "command_app.h"
#include "commands.h"
#include "common.h"
#include "option_values.h"
#include "policy_args.h"
#include "qt_runtime.h"

#if KVSCOPE_HAVE_RENDER
#include "render/heatmap_data.h"
#include "render/heatmap_render.h"
#endif

namespace kvscope::cli {

namespace {

enum class HeadReduce { One, Mean, Max };

// --head H|mean|max: one head's attention, or the mean/max over heads.
struct HeadChoice {
    HeadReduce how = HeadReduce::Mean;
    int32_t head = 0;
    std::string text = "mean";  // as given, for the figure's title
};

HeadChoice parse_head(const std::string& text) {
    if (text == "mean") return {HeadReduce::Mean, 0, text};
    if (text == "max") return {HeadReduce::Max, 0, text};
    try {
        return {HeadReduce::One, static_cast<int32_t>(parse_integer(text, 0, 4096)), text};
    } catch (const UsageError&) {
        throw UsageError("needs a head number (0 to 4096), mean or max, got '" + text + "'");
    }
}

}  // namespace

#if KVSCOPE_HAVE_RENDER
namespace {

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
    CommandApp app("heatmap");
    ModelArgs model_args;
    PromptArgs prompt_args;
    PolicyFlags policy_flags;
    SessionOptions so;
    std::optional<std::string> out;
    std::optional<std::string> csv;
    int64_t n_predict = 16;
    int32_t layer = 0;
    HeadChoice head;
    bool log_scale = false;
    std::optional<int> width;
    std::optional<int> height;
    add_model_argument(app, model_args);
    add_model_options(app, model_args);
    add_prompt_options(app, prompt_args);
    app.add_option("-n", n_predict, "tokens to generate after the prompt")->type_name("N")->check(integer_in(0, 1 << 20));
    app.add_option("--layer", layer, "the layer shown (0 = first)")->type_name("L")->check(integer_in(0, 4096));
    add_parsed_option(app, "--head", head, parse_head, "a head number, or the mean or max over heads")
        ->type_name("H|mean|max")->default_str("mean");
    app.add_option("--out", out, "the figure: .png, .svg or .pdf")->type_name("FILE");
    app.add_option("--csv", csv, "the values as CSV, one row per query position")->type_name("FILE");
    app.add_flag("--log", log_scale, "logarithmic colour scale");
    app.add_option("--width", width, "figure width in pixels")->type_name("PX")->check(integer_in(64, 16384));
    app.add_option("--height", height, "figure height in pixels")->type_name("PX")->check(integer_in(64, 16384));
    app.add_option("--ctx", so.n_ctx, "context length; 0 = the model's")->type_name("N")->check(integer_in(0, 1 << 30));
    add_policy_options(app, policy_flags);
    if (!app.parse_arguments(argv)) return 0;
#if !KVSCOPE_HAVE_RENDER
    throw Error("this kvscope-cli was built without Qt: heatmap needs the render library (rebuild with -DKVSCOPE_QT=ON)");
#else
    if (!out && !csv) throw UsageError("give --out FILE.png|.svg|.pdf and/or --csv FILE.csv");
    so.policy = policy_from_flags(policy_flags);
    so.capture_attention = true;
    const std::string prompt_read = prompt_text(prompt_args);

    auto model = load_model(model_args);
    const ModelConfig& c = model->config();
    const std::string prompt = prompt_for_model(prompt_args, prompt_read, c);
    if (layer >= c.n_layer)
        throw UsageError("option --layer must be between 0 and " + std::to_string(c.n_layer - 1) + ", got " +
                         std::to_string(layer));
    if (head.how == HeadReduce::One && head.head >= c.n_head)
        throw UsageError("option --head must be between 0 and " + std::to_string(c.n_head - 1) + ", mean or max, got " +
                         head.text);
    std::string backend_note;
    Session session(*model, make_cli_backend(*model, model_args, &backend_note), so);
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
                reduce_heads(la, j, c.n_head, head.how, head.head);
        if (!policy.layer_is_full(layer) && policy.kind != PolicyKind::H2O) {
            const int32_t w = policy.window_at(q.position + 1);
            const int32_t recent = policy.kind == PolicyKind::SinksWindow ? w - policy.sinks : w;
            if (w > 0) d.window_edges.push_back({q.position, std::max(0, q.position - recent + 1)});
        }
    }
    // The policy holds its sinks and pins for good: each is marked where it was held.
    const auto mark = [&d](std::vector<render::MarkSpan>& marks, int32_t key) {
        for (const render::MarkSpan& m : render::held_spans(d, key)) marks.push_back(m);
    };
    if (policy.kind == PolicyKind::SinksWindow || policy.kind == PolicyKind::Global)
        for (int32_t s = 0; s < policy.sinks && s < n_keys; ++s) mark(d.sink_marks, s);
    if (policy.kind == PolicyKind::Global)
        for (int32_t k = 0; k < n_keys; ++k)
            if (policy.pins.count(k) || (policy.pin_every > 0 && k % policy.pin_every == 0)) mark(d.global_marks, k);
    d.title = "layer " + std::to_string(layer) + ", head " + head.text + " — " + policy.describe();

    ensure_runtime_dir();
    if (csv) render::write_heatmap_csv(d, *csv);
    if (out) {
        render::HeatmapStyle style;
        style.scale = log_scale ? render::ColorScale::Log : render::ColorScale::Linear;
        style.width = width.value_or(style.width);
        style.height = height.value_or(style.height);
        render::render_heatmap(d, style, *out);
    }
    std::fprintf(stderr, "heatmap: %zu query rows × %d key positions%s%s%s%s; %s\n", rows.size(), n_keys,
                 out ? " -> " : "", out ? out->c_str() : "", csv ? " and " : "", csv ? csv->c_str() : "",
                 backend_note.c_str());
    return 0;
#endif
}

}  // namespace kvscope::cli
