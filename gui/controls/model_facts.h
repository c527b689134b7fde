#pragma once
// The facts the model-info panel shows, read once from a loaded model (its
// config, weights and GGUF tensor table) into plain strings, so the panel
// keeps no reference to the model.
#include <QString>

#include <cstdint>
#include <vector>

namespace kvscope {
class Model;
struct ModelConfig;
}  // namespace kvscope

namespace kvscope::gui {

struct ModelFact {
    QString label;    // e.g. "Layers"
    QString value;    // e.g. "30"
    QString tooltip;  // what it means, for the form's hover text
};

// K and V of one position in every layer at 2 bytes per value:
// 2 (K and V) × n_layer × n_head_kv × head_dim × 2 bytes.
int64_t kv_bytes_per_token_f16(const ModelConfig& config);

// "1.23 MiB (1,290,000 bytes)": a binary-prefixed size and the exact count.
QString format_bytes_exact(int64_t bytes);

// Name, architecture, file and size, shape, RoPE, weight bytes and tensor
// types, KV bytes per token. `path` is the file the model came from.
std::vector<ModelFact> model_facts(const Model& model, const QString& path);

}  // namespace kvscope::gui
