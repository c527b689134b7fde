// kvscope-cli info: what a GGUF model is, as text or one JSON object.
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "command_app.h"
#include "commands.h"
#include "common.h"
#include "backend/cpu/cpu_backend.h"
#include "util/mapped_file.h"
#include "util/simd_level.h"

namespace kvscope::cli {

namespace {

// What each backend would do with `model` on this machine.
nlohmann::json backends_json(const Model& model, const BackendOptions& options) {
    const BackendAvailability a = backend_availability(options);
    std::string chosen;
    try {
        chosen = make_backend(model, BackendOptions{BackendKind::Auto, options.threads, options.device})->name();
    } catch (const std::exception& e) {
        chosen = std::string("none: ") + e.what();
    }
    const std::string cpu_refusal = CpuBackend(model, 1).refusal(model);
    return {{"cpu", {{"runs", cpu_refusal.empty()}, {"threads", a.cpu_threads}, {"refusal", cpu_refusal}}},
            {"cuda", {{"built", a.cuda_built}, {"usable", a.cuda_usable}, {"device", a.cuda_device}, {"reason", a.cuda_reason}}},
            {"auto", chosen}};
}

}  // namespace

int cmd_info(const std::vector<std::string>& argv) {
    CommandApp app("info");
    ModelArgs model_args;
    bool json = false;
    add_model_argument(app, model_args);
    add_model_options(app, model_args);
    app.add_flag("--json", json, "print one JSON object");
    if (!app.parse_arguments(argv)) return 0;

    auto model = load_model(model_args);
    const ModelConfig& c = model->config();
    const gguf::GgufFile& f = model->file();
    std::map<std::string, int> type_counts;
    uint64_t params = 0;
    for (const auto& t : f.tensors()) {
        type_counts[tensor_type_name(t.type)]++;
        params += t.n_elements;
    }
    const Tokenizer& tok = model->tokenizer();
    const size_t kv_per_token_f16 = 2ull * static_cast<size_t>(c.n_layer) * static_cast<size_t>(c.kv_dim()) * 2;
    const char* rope = c.rope_layout == RopeLayout::Normal ? "normal" : "neox";
    const bool has_template = !model->chat_template().empty();
    if (json) {
        const nlohmann::json j = {
            {"file", f.source_name()}, {"file_bytes", f.file_size()}, {"gguf_version", f.version()},
            {"tensors", f.tensors().size()}, {"metadata_keys", f.metadata().size()}, {"name", c.name},
            {"architecture", c.architecture}, {"parameters", params}, {"tensor_types", type_counts},
            {"layers", c.n_layer}, {"embedding", c.n_embd}, {"heads", c.n_head}, {"kv_heads", c.n_head_kv},
            {"head_dim", c.head_dim}, {"feed_forward", c.n_ff}, {"context", c.n_ctx_train}, {"rope", rope},
            {"rope_dims", c.rope_dim}, {"rope_freq_base", c.rope_freq_base},
            {"rope_freq_factors", model->weights().rope_freq_factors}, {"rms_eps", c.rms_eps},
            {"native_window", c.native_window}, {"layer_is_local", c.layer_is_local},
            {"layer_rope_base", c.layer_rope_base}, {"block_extras", c.describe_block_extras()},
            {"tied_output", model->weights().tied_output}, {"vocab", c.n_vocab}, {"tokenizer", tok.model_name()},
            {"pre_tokenizer", tok.pre_name()}, {"bos", tok.bos()}, {"eos", tok.eos()}, {"add_bos", tok.add_bos()},
            {"chat_template", has_template}, {"kv_bytes_per_token_f16", kv_per_token_f16},
            {"backends", backends_json(*model, model_args.backend_options())},
            {"cpu_kernels", {{"simd", simd_level_name(active_simd_level())},
                             {"best_here", simd_level_name(best_simd_level())},
                             {"report", simd_report()}}}};
        std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        return 0;
    }
    std::string types;
    for (const auto& [name, count] : type_counts) types += (types.empty() ? "" : ", ") + name + " ×" + std::to_string(count);
    std::printf("file:            %s (%.1f MiB, GGUF v%u, %zu tensors, %zu metadata keys)\n",
                f.source_name().c_str(), static_cast<double>(f.file_size()) / (1 << 20), f.version(),
                f.tensors().size(), f.metadata().size());
    std::printf("name:            %s\n", c.name.c_str());
    std::printf("architecture:    %s\n", c.architecture.c_str());
    std::printf("parameters:      %.1f M\n", static_cast<double>(params) / 1e6);
    std::printf("tensor types:    %s\n", types.c_str());
    std::printf("layers:          %d\n", c.n_layer);
    std::printf("embedding:       %d\n", c.n_embd);
    std::printf("heads:           %d query, %d KV (GQA group %d), head dim %d\n", c.n_head, c.n_head_kv, c.gqa_group(),
                c.head_dim);
    std::printf("feed-forward:    %d\n", c.n_ff);
    std::printf("context:         %d\n", c.n_ctx_train);
    std::printf("rope:            %s, %d dims, base %g%s\n", rope, c.rope_dim, static_cast<double>(c.rope_freq_base),
                model->weights().rope_freq_factors.empty() ? "" : ", frequency factors (rope_freqs: Llama 3 scaling)");
    std::printf("rms eps:         %g\n", static_cast<double>(c.rms_eps));
    std::printf("attention:       %s\n", c.describe_attention_layers().c_str());
    if (!c.describe_block_extras().empty()) std::printf("block extras:    %s\n", c.describe_block_extras().c_str());
    std::printf("output head:     %s\n", model->weights().tied_output ? "tied to token_embd" : "output.weight");
    std::printf("vocab:           %d (%s, pre-tokenizer '%s', bos %d, eos %d, add bos %s)\n", c.n_vocab,
                tok.model_name().c_str(), tok.pre_name().c_str(), tok.bos(), tok.eos(), tok.add_bos() ? "yes" : "no");
    std::printf("chat template:   %s\n", has_template ? "present" : "absent");
    std::printf("KV per token:    %zu bytes in f16\n", kv_per_token_f16);
    if (c.native_window > 0) {
        // What the model itself keeps at its full context: local layers only their window.
        const int64_t held_positions = c.layer_positions_held(c.n_ctx_train);  // summed over layers
        const double per_layer_position = static_cast<double>(kv_per_token_f16) / c.n_layer;
        std::printf("KV at context:   %.1f MiB in f16 at %d positions, local layers holding their window "
                    "(every position in every layer: %.1f MiB)\n",
                    static_cast<double>(held_positions) * per_layer_position / (1 << 20), c.n_ctx_train,
                    static_cast<double>(kv_per_token_f16) * c.n_ctx_train / (1 << 20));
    }
    // What each backend would do with this model on this machine.
    const BackendOptions bo = model_args.backend_options();
    const BackendAvailability a = backend_availability(bo);
    const std::string cpu_refusal = CpuBackend(*model, 1).refusal(*model);
    const std::string cpu_line =
        cpu_refusal.empty() ? "runs it, " + std::to_string(a.cpu_threads) + " threads" : "refuses: " + cpu_refusal;
    std::printf("backend cpu:     %s\n", cpu_line.c_str());
    // Every SIMD level gives the same numbers; KVSCOPE_SIMD chooses another.
    std::printf("cpu kernels:     %s in use; best here %s\n", simd_level_name(active_simd_level()), simd_report().c_str());
    std::string cuda_line = a.cuda_usable ? "device " + std::to_string(bo.device) + ": " + a.cuda_device
                                          : "not available: " + a.cuda_reason;
    std::string auto_line;
    try {
        std::string note;
        make_backend(*model, BackendOptions{BackendKind::Auto, bo.threads, bo.device}, &note);
        auto_line = note;
    } catch (const std::exception& e) {
        auto_line = std::string("none: ") + e.what();
    }
    std::printf("backend cuda:    %s\n", cuda_line.c_str());
    std::printf("backend auto:    %s\n", auto_line.c_str());
    return 0;
}

}  // namespace kvscope::cli
