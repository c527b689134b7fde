#include "controls/model_facts.h"

#include <QFileInfo>
#include <QLocale>
#include <QStringList>

#include <map>

#include "model/model.h"
#include "quant/tensor_type.h"

namespace kvscope::gui {
namespace {

// Fixed English grouping so the text is the same on every machine (and in tests).
QString grouped(int64_t n) { return QLocale(QLocale::English, QLocale::UnitedStates).toString(static_cast<qlonglong>(n)); }

QString tensor_types_summary(const gguf::GgufFile& file) {
    struct Tally {
        int64_t tensors = 0;
        int64_t bytes = 0;
    };
    std::map<std::string, Tally> by_type;  // type name -> count and bytes, sorted by name
    for (const gguf::TensorInfo& t : file.tensors()) {
        Tally& tally = by_type[tensor_type_name(t.type)];
        tally.tensors += 1;
        tally.bytes += static_cast<int64_t>(t.n_bytes);
    }
    QStringList parts;
    for (const auto& [name, tally] : by_type)
        parts << QStringLiteral("%1 × %2 (%3)")
                     .arg(QString::fromStdString(name))
                     .arg(tally.tensors)
                     .arg(QLocale(QLocale::English).formattedDataSize(tally.bytes, 1, QLocale::DataSizeIecFormat));
    return parts.join(QStringLiteral(", "));
}

}  // namespace

int64_t kv_bytes_per_token_f16(const ModelConfig& c) {
    return int64_t{2} * c.n_layer * c.n_head_kv * c.head_dim * 2;
}

QString format_bytes_exact(int64_t bytes) {
    return QStringLiteral("%1 (%2 bytes)")
        .arg(QLocale(QLocale::English).formattedDataSize(bytes, 2, QLocale::DataSizeIecFormat), grouped(bytes));
}

std::vector<ModelFact> model_facts(const Model& model, const QString& path) {
    const ModelConfig& c = model.config();
    const int64_t kv_token = kv_bytes_per_token_f16(c);
    const QString layout = c.rope_layout == RopeLayout::Normal ? QStringLiteral("normal (adjacent pairs)")
                                                              : QStringLiteral("neox (halves)");
    std::vector<ModelFact> facts = {
        {QStringLiteral("Name"), c.name.empty() ? QStringLiteral("(none)") : QString::fromStdString(c.name),
         QStringLiteral("general.name in the GGUF metadata")},
        {QStringLiteral("Architecture"), QString::fromStdString(c.architecture), QStringLiteral("general.architecture")},
        {QStringLiteral("File"), QFileInfo(path).absoluteFilePath(), QStringLiteral("The GGUF file the model was loaded from")},
        {QStringLiteral("File size"), format_bytes_exact(static_cast<int64_t>(model.file().file_size())),
         QStringLiteral("Bytes of the whole file (header, metadata, tensors)")},
        {QStringLiteral("Layers"), QString::number(c.n_layer), QStringLiteral("Transformer blocks; each has its own KV cache")},
        {QStringLiteral("Heads"), QString::number(c.n_head), QStringLiteral("Query heads per layer")},
        {QStringLiteral("KV heads"), QString::number(c.n_head_kv),
         QStringLiteral("Key/value heads per layer; fewer than the query heads = grouped-query attention")},
        {QStringLiteral("GQA group"), QStringLiteral("%1 query heads per KV head").arg(c.gqa_group()),
         QStringLiteral("Query heads sharing one KV head")},
        {QStringLiteral("Head dim"), QString::number(c.head_dim), QStringLiteral("Dimensions of one head's key/value")},
        {QStringLiteral("Embedding"), QString::number(c.n_embd), QStringLiteral("Hidden size")},
        {QStringLiteral("FFN"), QString::number(c.n_ff), QStringLiteral("Feed-forward hidden size")},
        {QStringLiteral("Vocab"), QString::number(c.n_vocab), QStringLiteral("Tokens in the vocabulary")},
        {QStringLiteral("Training context"), QString::number(c.n_ctx_train),
         QStringLiteral("Context length the model was trained for; bounds the session's context")},
        {QStringLiteral("RoPE"),
         QStringLiteral("base %1, %2 of %3 dims rotated, %4%5")
             .arg(static_cast<double>(c.rope_freq_base))
             .arg(c.rope_dim)
             .arg(c.head_dim)
             .arg(layout, model.weights().rope_freq_factors.empty()
                              ? QString()
                              : QStringLiteral(", frequency factors (Llama 3 scaling)")),
         QStringLiteral("Rotary position embedding: frequency base, rotated dimensions per head, pairing of dimensions")},
        {QStringLiteral("Attention layers"), QString::fromStdString(c.describe_attention_layers()),
         QStringLiteral("Which layers attend within the model's own sliding window (local) and which to everything "
                        "held (global); part of the model, not a cache policy")},
        {QStringLiteral("Weight bytes"), format_bytes_exact(static_cast<int64_t>(model.weights().total_bytes)),
         QStringLiteral("Bytes of every tensor in the file")},
        {QStringLiteral("Tensor types"), tensor_types_summary(model.file()),
         QStringLiteral("Storage types of the file's tensors: type × count (bytes)")},
        {QStringLiteral("KV bytes per token (f16)"),
         QStringLiteral("%1; %2 for the full training context").arg(format_bytes_exact(kv_token), format_bytes_exact(kv_token * c.n_ctx_train)),
         QStringLiteral("2 (K and V) × layers × KV heads × head dim × 2 bytes")},
    };
    if (c.native_window > 0) {
        // The model's own windows cut what even a full cache holds.
        const int64_t held = c.layer_positions_held(c.n_ctx_train) * (kv_token / c.n_layer);
        facts.push_back({QStringLiteral("KV held at that context (f16)"), format_bytes_exact(held),
                         QStringLiteral("A full cache at the training context with each local layer holding only its "
                                        "own window (global layers: every position)")});
    }
    return facts;
}

}  // namespace kvscope::gui
