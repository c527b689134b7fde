#include "model/architecture.h"

#include <array>

#include "gguf/gguf_file.h"
#include "model/model_config.h"

namespace kvscope {
namespace {

const std::array<ArchitectureTraits, 5> kArchitectures = {{
    // llama: RMSNorm, RoPE on adjacent pairs (the converter permutes Q/K), GQA,
    // SwiGLU. Llama 3's RoPE scaling arrives as the rope_freqs.weight tensor
    // (one divisor per rotated pair), bound when the file has it.
    {"llama", RopeLayout::Normal, FfnActivation::Silu, false, false, false, false, false, false, 0, 0.0f},
    // qwen2 (llama.cpp build_qwen2): llama's block with biases on the Q, K and V
    // projections, added before RoPE, and NeoX RoPE (the converter does not permute Q/K).
    {"qwen2", RopeLayout::Neox, FfnActivation::Silu, false, false, false, false, true, false, 0, 0.0f},
    // qwen3 (llama.cpp llm_build_qwen3): qwen2's block without biases, with an
    // RMSNorm of each head of Q and K (attn_q_norm/attn_k_norm) before NeoX RoPE.
    {"qwen3", RopeLayout::Neox, FfnActivation::Silu, true, false, false, false, false, false, 0, 0.0f},
    // phi3 (llama.cpp build_phi3): Q, K and V from one fused attn_qkv.weight
    // (split by rows at load; separate attn_q/k/v.weight also accepted), NeoX
    // RoPE, q scaled by 1/sqrt(head_dim) after RoPE (kq_scale 1), SwiGLU over a
    // fused ffn_up.weight (gate rows first); every layer attends within the
    // file's phi3.attention.sliding_window (Phi-3-mini-4k: 2,047).
    {"phi3", RopeLayout::Neox, FfnActivation::Silu, false, false, false, true, false, true, 1, 0.0f},
    // gemma3 (llama.cpp llm_build_gemma3_iswa and its hparams): NeoX RoPE,
    // q/k norms, post-attention and post-FFN norms, GeGLU with tanh GELU,
    // embeddings scaled by sqrt(n_embd), q scaled by f_attention_scale before
    // attention (kq_scale 1); 5 local layers (window, RoPE base 10,000) to 1
    // global (full attention, the file's base): set_swa_pattern(6).
    {"gemma3", RopeLayout::Neox, FfnActivation::GeluTanh, true, true, true, true, false, false, 6, 10000.0f},
}};

}  // namespace

const ArchitectureTraits& architecture_traits(const std::string& architecture) {
    for (const ArchitectureTraits& t : kArchitectures)
        if (architecture == t.name) return t;
    throw gguf::GgufError("GGUF: architecture '" + architecture + "' is not supported (KVScope runs: " +
                          supported_architectures() + ")");
}

std::string supported_architectures() {
    std::string s;
    for (const ArchitectureTraits& t : kArchitectures) s += (s.empty() ? "" : ", ") + std::string(t.name);
    return s;
}

}  // namespace kvscope
