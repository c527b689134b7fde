#pragma once
// What each supported architecture computes beyond what its GGUF says: the
// one documented place per architecture for the rules llama.cpp hard-codes
// (which layers are local, their RoPE base, which norms and activation the
// blocks use). Everything sized (heads, dims, windows) still comes from the file.
#include <cstdint>
#include <string>

namespace kvscope {

enum class RopeLayout;

// The feed-forward gate's activation.
enum class FfnActivation {
    Silu,      // SwiGLU: silu(gate) · up (llama)
    GeluTanh,  // GeGLU: gelu_tanh(gate) · up, ggml's f16-table GELU (gemma3)
};

struct ArchitectureTraits {
    const char* name;
    RopeLayout rope_layout;
    FfnActivation ffn_activation;
    bool qk_norm;           // RMSNorm of each head of Q and K before RoPE (attn_q_norm/attn_k_norm)
    bool post_norms;        // RMSNorm of the attention and FFN outputs before their residual adds
    bool scale_embeddings;  // token embeddings times sqrt(n_embd)
    bool scale_query;       // q times 1/sqrt(head_dim) before attention (gemma3), not the scores after
    bool qkv_bias;          // Q, K and V projections add a bias (attn_q/k/v.bias) before RoPE (qwen2)
    bool fused_gate_up;     // ffn_up.weight holds the gate's rows, then the up rows (phi3); no ffn_gate.weight
    // Local (sliding-window) layers: layer l is local when l % local_pattern <
    // local_pattern - 1 (the last of every local_pattern layers is global); 1 =
    // every layer local; 0 = no local layers. The window itself is the file's
    // <arch>.attention.sliding_window.
    int32_t local_pattern;
    float local_rope_base;  // RoPE base of local layers (0: the file's, as global ones use)
};

// The traits of a GGUF's general.architecture; throws GgufError naming the
// supported architectures for any other.
const ArchitectureTraits& architecture_traits(const std::string& architecture);

// "llama, gemma3": for messages.
std::string supported_architectures();

}  // namespace kvscope
