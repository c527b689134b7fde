#pragma once
// The reference backend: the llama forward pass on the CPU, multi-threaded,
// with dot products on the quantised weight blocks (activations quantised as
// llama.cpp does). Weights are read in place from the mapped file.
#include <functional>
#include <initializer_list>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/cpu_kv_storage.h"
#include "model/model.h"
#include "quant/quant.h"
#include "util/thread_pool.h"

namespace kvscope {

class CpuBackend final : public Backend {
public:
    // n_threads >= 1; throws InvalidSetting otherwise.
    CpuBackend(const Model& model, int n_threads);

    std::string name() const override { return "CPU"; }
    // The weight types the CPU computes: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K.
    std::string refusal(const Model& model) const override;
    // Host memory (CpuKvStorage); one slot group per layer (per-head groups
    // come with per-head policies).
    std::unique_ptr<KvStorage> create_kv_storage(const KvLayout& layout) override;
    void forward(const std::vector<int32_t>& tokens, const std::vector<int32_t>& positions, KvCache& cache,
                 float* logits, std::vector<QueryAttention>* capture = nullptr) override;
    BackendMemory memory() const override;
    int threads() const { return pool_.size(); }

private:
    struct MatmulTarget {
        const WeightMatrix* w;
        float* out;  // [n_tokens][w->rows]
    };
    // out[t][r] = W.row(r) · x[t] for every target (all take the same activation x).
    void matmul(std::initializer_list<MatmulTarget> targets, const std::vector<QuantizedVector>& x, int n_tokens);
    // fn(t) for every token of a batch, spread over the threads (one token: on this thread).
    void for_each_token(int n_tokens, const std::function<void(int)>& fn);
    // Quantises rows of `x` ([n_tokens][n]) for dot products with weights of `type`.
    void quantize_rows(TensorType type, const float* x, int64_t n, int n_tokens, std::vector<QuantizedVector>& out);
    void attention(int32_t layer, const std::vector<int32_t>& positions, const KvCache& cache,
                   const CpuKvStorage& storage, std::vector<QueryAttention>* capture);
    // The decode path (one query token, f16 cache in original positions) in
    // llama.cpp's order, in three passes split where the sums allow it.
    void attention_decode(int32_t layer, int first, int visible, int n_padded, const KvCache& cache,
                          const CpuKvStorage& storage, std::vector<QueryAttention>* capture);
    // Fills kt_f32_/vt_f32_ from the layer's held slots (a batch reads each row
    // many times); in-cache position mode rotates each key at its rank.
    void convert_held_kv(int32_t layer, const KvCache& cache, const CpuKvStorage& storage);
    // rank_cos_/rank_sin_ cover ranks [0, n).
    void ensure_rank_angles(int32_t n);
    // Llama 3's per-pair RoPE divisors ([rope_dim / 2]), or nullptr when the model has none.
    const float* rope_freq_factors() const {
        const std::vector<float>& f = model_.weights().rope_freq_factors;
        return f.empty() ? nullptr : f.data();
    }
    void ensure_scratch(int n_tokens);

    const Model& model_;
    const ModelConfig& cfg_;
    ThreadPool pool_;

    // Scratch, sized for the largest batch seen (T tokens):
    int scratch_tokens_ = 0;
    std::vector<float> x_;        // [T][n_embd]    residual stream
    std::vector<float> xn_;       // [T][n_embd]    normalised input of a sub-layer
    std::vector<float> q_;        // [T][n_head][head_dim]
    std::vector<float> k_;        // [T][n_head_kv][head_dim]
    std::vector<float> v_;        // [T][n_head_kv][head_dim]
    std::vector<float> attn_out_; // [T][n_head][head_dim]
    std::vector<float> proj_;     // [T][n_embd]    output of Wo / Wdown before the residual add
    std::vector<float> gate_;     // [T][n_ff]
    std::vector<float> up_;       // [T][n_ff]
    // RoPE angles of each token, one set per distinct base (gemma3's local
    // and global layers rotate with different bases): [n_bases][T][rope_dim / 2].
    std::vector<float> rope_bases_;         // the distinct bases, first seen first
    std::vector<int32_t> layer_rope_set_;   // [n_layer] index into rope_bases_
    std::vector<float> rope_cos_;
    std::vector<float> rope_sin_;
    struct AttentionScratch {
        std::vector<float> scores;            // [keys, padded to 32]  one attention row
        std::vector<float> v_acc;             // [64][head_dim] lane accumulators of P·V (decode: [≤ 4 heads][d block][64])
        std::vector<float> q16;               // [head_dim]            query rounded to f16 values
    };
    std::vector<AttentionScratch> attention_scratch_;  // [thread]
    std::vector<float> decode_q16_;                 // [n_head][head_dim]   the query as f16 values (decode)
    std::vector<float> decode_scores_;              // [n_head][keys, padded] scores, then probabilities (by rank)
    std::vector<float> decode_slot_values_;         // [n_head][slots, padded] the same by slot (when slot != rank)
    std::vector<const uint16_t*> decode_k_pages_;   // [slots / 16]         each page's K (f16, transposed)
    std::vector<const uint16_t*> decode_v_pages_;   // [slots / 16]         and V
    std::vector<uint16_t> decode_lane_mask_;        // [slots / 16]         bit i: slot 16b + i counts in P·V
    std::vector<int> visible_scratch_;                 // [T] held keys up to each query token (one past the last it sees)
    std::vector<int> first_visible_scratch_;           // [T] the first held key it sees (> 0 past a native window)
    std::vector<int32_t> slot_scratch_;                // [n_layer][T] the slot of each token's position
    // K and V cache of one layer as floats (batches only), in blocks of 16 keys transposed, the layout of
    // scores_prefill_f32 and weighted_sum_v_prefill_blocked: [n_head_kv][held / 16, rounded up][head_dim][16]
    std::vector<float> kt_f32_;
    std::vector<float> vt_f32_;
    std::vector<float> rank_cos_;  // [rank][rope_dim / 2]  RoPE angles by rank in the cache (in-cache mode)
    std::vector<float> rank_sin_;  // [rank][rope_dim / 2]
    std::vector<QuantizedVector> xq_;            // [T] quantised xn_ / attn_out_ / gate_
};

}  // namespace kvscope
