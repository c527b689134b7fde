#include "backend/cpu/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/ggml_order.h"
#include "backend/cpu/vec_dot.h"
#include "util/error.h"
#include "util/fp16.h"
#include "util/process_memory.h"

namespace kvscope {
namespace {
size_t sz(int64_t n) { return static_cast<size_t>(n); }
// An f16 page's 16 slots are the 16 lanes of ggml's sums (decode, and the
// prefill's blocks of keys).
static_assert(kPageSize == ggml_order::kLanes);

// Whether the first n held slots are slots 0..n-1 in order: rank j in slot j.
bool held_in_slot_order(const std::vector<int32_t>& held, int n) {
    for (int j = 0; j < n; ++j)
        if (held[sz(j)] != j) return false;
    return true;
}
}  // namespace

CpuBackend::CpuBackend(const Model& model, int n_threads)
    : model_(model), cfg_(model.config()), pool_(n_threads) {
    attention_scratch_.resize(sz(pool_.size()));
    for (auto& sc : attention_scratch_) sc.q16.resize(sz(cfg_.head_dim));
    for (int32_t l = 0; l < cfg_.n_layer; ++l) {
        const float base = cfg_.layer_rope_base[sz(l)];
        const auto it = std::find(rope_bases_.begin(), rope_bases_.end(), base);
        layer_rope_set_.push_back(static_cast<int32_t>(it - rope_bases_.begin()));
        if (it == rope_bases_.end()) rope_bases_.push_back(base);
    }
}

void CpuBackend::ensure_scratch(int n_tokens) {
    if (n_tokens <= scratch_tokens_) return;
    scratch_tokens_ = n_tokens;
    const size_t T = sz(n_tokens);
    x_.resize(T * sz(cfg_.n_embd));
    xn_.resize(T * sz(cfg_.n_embd));
    q_.resize(T * sz(cfg_.q_dim()));
    k_.resize(T * sz(cfg_.kv_dim()));
    v_.resize(T * sz(cfg_.kv_dim()));
    attn_out_.resize(T * sz(cfg_.q_dim()));
    proj_.resize(T * sz(cfg_.n_embd));
    gate_.resize(T * sz(cfg_.n_ff));
    up_.resize(T * sz(cfg_.n_ff));
    rope_cos_.resize(rope_bases_.size() * T * sz(cfg_.rope_dim / 2));
    rope_sin_.resize(rope_bases_.size() * T * sz(cfg_.rope_dim / 2));
    xq_.resize(T);
}

void CpuBackend::for_each_token(int n_tokens, const std::function<void(int)>& fn) {
    if (n_tokens == 1) {
        fn(0);
        return;
    }
    pool_.parallel_for(n_tokens, [&](int64_t t0, int64_t t1, int) {
        for (int64_t t = t0; t < t1; ++t) fn(static_cast<int>(t));
    });
}

void CpuBackend::quantize_rows(TensorType type, const float* x, int64_t n, int n_tokens,
                               std::vector<QuantizedVector>& out) {
    for_each_token(n_tokens, [&](int t) { quantize_for_dot(type, x + sz(t) * sz(n), n, out[sz(t)]); });
}

void CpuBackend::matmul(std::initializer_list<MatmulTarget> targets, const std::vector<QuantizedVector>& x,
                        int n_tokens) {
    // All targets share the activation x, so their rows form one job: one
    // hand-off to the threads instead of one per matrix.
    int64_t total_rows = 0;
    for (const MatmulTarget& t : targets) total_rows += t.w->rows;
    pool_.parallel_for(total_rows, [&](int64_t r0, int64_t r1, int) {
        int64_t base = 0;
        for (const MatmulTarget& target : targets) {
            const WeightMatrix& w = *target.w;
            const int64_t b = std::max(r0, base) - base, e = std::min(r1, base + w.rows) - base;
            base += w.rows;
            if (b >= e) continue;
            if (n_tokens == 1) {
                vec_dot_rows(w.type, w.row(b), w.row_stride, e - b, x[0], target.out + b);
                continue;
            }
            // A batch: a tile of rows stays in L1 while every token's activation passes over it.
            constexpr int64_t kTile = 16;
            for (int64_t r = b; r < e; r += kTile)
                vec_dot_rows_batch(w.type, w.row(r), w.row_stride, std::min(kTile, e - r), x.data(), n_tokens,
                                   target.out + sz(r), sz(w.rows));
        }
    });
}

void CpuBackend::ensure_rank_angles(int32_t n) {
    const size_t half = sz(cfg_.rope_dim / 2);
    const int32_t have = static_cast<int32_t>(rank_cos_.size() / std::max<size_t>(half, 1));
    if (n <= have) return;
    rank_cos_.resize(sz(n) * half);
    rank_sin_.resize(sz(n) * half);
    // Models whose layers rotate with several bases are refused in-cache mode
    // (SessionOptions::validate), so one base covers every layer here.
    for (int32_t r = have; r < n; ++r)
        cpu::rope_angles(r, cfg_.rope_dim, cfg_.rope_freq_base, rank_cos_.data() + sz(r) * half, rank_sin_.data() + sz(r) * half,
                         rope_freq_factors());
}

std::string CpuBackend::refusal(const Model& model) const {
    const ModelWeights& w = model.weights();
    std::vector<const WeightMatrix*> matrices = {&w.token_embd, &w.output};
    for (const LayerWeights& l : w.layers)
        for (const WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) matrices.push_back(m);
    for (const WeightMatrix* m : matrices)
        if (!vec_dot_computes(m->type))
            return "the CPU backend does not compute tensor '" + m->name + "' of type " + tensor_type_name(m->type) +
                   " (it computes " + computable_type_names() + ")";
    return {};
}

std::unique_ptr<KvStorage> CpuBackend::create_kv_storage(const KvLayout& layout) {
    for (int32_t l = 0; l < layout.shape.n_layer; ++l)
        if (layout.groups(l) != 1)
            throw Error("the CPU backend keeps one slot list per layer; per-KV-head slot groups (layer " +
                        std::to_string(l) + ") come with per-head policies");
    return std::make_unique<CpuKvStorage>(layout);
}

void CpuBackend::convert_held_kv(int32_t layer, const KvCache& cache, const CpuKvStorage& storage) {
    const std::vector<int32_t>& held = cache.held_slots(layer);
    const size_t kv_dim = sz(cfg_.kv_dim());
    const size_t hd = sz(cfg_.head_dim);
    const size_t half = sz(cfg_.rope_dim / 2);
    const bool rotate = cache.position_mode() == PositionMode::InCache;
    if (rotate) ensure_rank_angles(static_cast<int32_t>(held.size()));
    constexpr int kBlock = ggml_order::kLanes;
    const int64_t n_blocks = (static_cast<int64_t>(held.size()) + kBlock - 1) / kBlock;
    kt_f32_.assign(sz(n_blocks) * kBlock * kv_dim, 0.0f);  // padded keys stay 0
    vt_f32_.assign(sz(n_blocks) * kBlock * kv_dim, 0.0f);
    if (storage.transposed() && !rotate && held_in_slot_order(held, static_cast<int>(held.size()))) {
        // Slot j holds rank j, and an f16 page is already a block of 16 keys
        // transposed: each KV head's part converts as it lies.
        const int64_t n_held = static_cast<int64_t>(held.size());
        pool_.parallel_for(n_blocks, [&](int64_t b0, int64_t b1, int) {
            for (int64_t b = b0; b < b1; ++b) {
                const int lanes = static_cast<int>(std::min<int64_t>(kBlock, n_held - b * kBlock));
                for (int32_t h = 0; h < cfg_.n_head_kv; ++h) {
                    const size_t from = sz(h) * hd * kBlock, to = (sz(h) * sz(n_blocks) + sz(b)) * hd * kBlock;
                    const uint16_t* kp = storage.k_page_f16(layer, 0, static_cast<int32_t>(b)) + from;
                    const uint16_t* vp = storage.v_page_f16(layer, 0, static_cast<int32_t>(b)) + from;
                    for (size_t i = 0; i < hd * kBlock; ++i) {
                        // Lanes past the held slots stay 0, whatever a free slot's bytes hold.
                        if (static_cast<int>(i % kBlock) >= lanes) continue;
                        kt_f32_[to + i] = fp16_to_f32(kp[i]);
                        vt_f32_[to + i] = fp16_to_f32(vp[i]);
                    }
                }
            }
        });
        return;
    }
    pool_.parallel_for(n_blocks, [&](int64_t b0, int64_t b1, int) {
        std::vector<float> k(kv_dim), v(kv_dim);  // one slot: [n_head_kv][head_dim]
        for (int64_t j = b0 * kBlock; j < std::min<int64_t>(b1 * kBlock, static_cast<int64_t>(held.size())); ++j) {
            storage.load_k(layer, 0, held[sz(j)], k.data());
            storage.load_v(layer, 0, held[sz(j)], v.data());
            const size_t block = sz(j / kBlock), lane = sz(j % kBlock);
            for (int32_t h = 0; h < cfg_.n_head_kv; ++h) {
                float* kh = k.data() + sz(h) * hd;
                if (rotate)
                    cpu::rope_apply(kh, cfg_.rope_dim, cfg_.rope_layout, rank_cos_.data() + sz(j) * half,
                                    rank_sin_.data() + sz(j) * half);
                const size_t at = (sz(h) * sz(n_blocks) + block) * hd * kBlock + lane;
                for (size_t d = 0; d < hd; ++d) {
                    kt_f32_[at + d * kBlock] = kh[d];
                    vt_f32_[at + d * kBlock] = v[sz(h) * hd + d];
                }
            }
        }
    });
}

void CpuBackend::attention(int32_t layer, const std::vector<int32_t>& positions, const KvCache& cache,
                           const CpuKvStorage& storage, std::vector<QueryAttention>* capture) {
    const int n_tokens = static_cast<int>(positions.size());
    const int32_t hd = cfg_.head_dim;
    // Scores are q·k times the scale, or (gemma3) q is scaled first, which
    // rounds differently once q meets the f16 cache (small values go subnormal).
    const float scale = cfg_.scale_query ? 1.0f : cfg_.attention_scale;
    const float q_scale = cfg_.scale_query ? cfg_.attention_scale : 1.0f;
    const std::vector<int32_t>& held = cache.held_slots(layer);
    const bool in_cache = cache.position_mode() == PositionMode::InCache;
    // An f16 cache in original positions follows llama.cpp exactly: one query
    // token takes ggml_vec_dot_f16's order, a batch tinyBLAS's (ggml_order.h).
    // Other caches are read as floats and summed in the batch order.
    const bool llama_order = cache.value_type() == KvValueType::F16 && !in_cache;
    const bool decode = n_tokens == 1 && llama_order;
    if (!decode) convert_held_kv(layer, cache, storage);
    const int n_padded = ggml_order::padded_keys(static_cast<int>(held.size()));
    const CpuKernels& kern = cpu_kernels();
    // Causal: a token sees the held positions up to its own (held is ordered by position).
    // Token t sees the held keys [first[t], n_visible[t]): those up to its own
    // position and, in a local layer, inside the model's window (positions > p − window).
    std::vector<int>& n_visible = visible_scratch_;
    std::vector<int>& first = first_visible_scratch_;
    n_visible.resize(sz(n_tokens));
    first.assign(sz(n_tokens), 0);
    const int32_t window = cfg_.layer_window(layer);
    for (int t = 0; t < n_tokens; ++t) {
        const int32_t p = positions[sz(t)];
        n_visible[sz(t)] = static_cast<int>(
            std::upper_bound(held.begin(), held.end(), p,
                             [&](int32_t pos, int32_t slot) { return pos < cache.position_of(layer, slot); }) -
            held.begin());
        if (window > 0)
            first[sz(t)] = static_cast<int>(
                std::lower_bound(held.begin(), held.end(), p - window + 1,
                                 [&](int32_t slot, int32_t pos) { return cache.position_of(layer, slot) < pos; }) -
                held.begin());
        if (capture != nullptr) {
            LayerAttention& la = (*capture)[sz(t)].layers[sz(layer)];
            const int seen = n_visible[sz(t)] - first[sz(t)];
            la.key_positions.resize(sz(seen));
            for (int j = 0; j < seen; ++j) la.key_positions[sz(j)] = cache.position_of(layer, held[sz(first[sz(t)] + j)]);
            la.probs.resize(sz(cfg_.n_head) * sz(seen));
        }
    }
    if (decode) {
        attention_decode(layer, first[0], n_visible[0], n_padded, cache, storage, capture);
        return;
    }
    if (in_cache) ensure_rank_angles(static_cast<int32_t>(held.size()));
    const size_t kt_head_floats = kt_f32_.size() / sz(cfg_.n_head_kv);  // one KV head's blocks of keys (K and V alike)
    // Thread c takes the (token, head) items c, c + P, c + 2P, ...: causality
    // gives later tokens more keys, so contiguous chunks would leave the first
    // thread idle while the last one works.
    const int64_t n_items = int64_t{n_tokens} * cfg_.n_head;
    const int64_t n_pool = pool_.size();
    pool_.parallel_for(n_pool, [&](int64_t c0, int64_t c1, int thread) {
        AttentionScratch& sc = attention_scratch_[sz(thread)];
        sc.scores.resize(sz(n_padded));
        float* q16 = sc.q16.data();
        float* scores = sc.scores.data();
        for (int64_t c = c0; c < c1; ++c) {
            for (int64_t i = c; i < n_items; i += n_pool) {
                const int t = static_cast<int>(i / cfg_.n_head);
                const int32_t h = static_cast<int32_t>(i % cfg_.n_head);
                const size_t kv_head = sz(h / cfg_.gqa_group());
                const int visible = n_visible[sz(t)];
                const int lo = first[sz(t)];
                const float* q = q_.data() + sz(t) * sz(cfg_.q_dim()) + sz(h) * sz(hd);
                for (int32_t d = 0; d < hd; ++d) q16[d] = q[d] * q_scale;  // ggml_scale (gemma3) or × 1
                if (in_cache) {
                    // The query sits at its own rank: the last of the keys it sees.
                    const size_t half = sz(cfg_.rope_dim / 2), rank = sz(visible - 1);
                    cpu::rope_apply(q16, cfg_.rope_dim, cfg_.rope_layout, rank_cos_.data() + rank * half,
                                    rank_sin_.data() + rank * half);
                }
                // Q is converted to f16 to meet an f16 K cache, as llama.cpp does
                // (and to the same precision for a q8_0 cache).
                if (cache.value_type() != KvValueType::F32)
                    kern.round_to_f16_values(q16, hd);
                kern.scores_prefill_f32(q16, kt_f32_.data() + kv_head * kt_head_floats, visible, hd, scale, scores);
                // llama.cpp's softmax runs over all n_padded keys, the masked ones
                // -inf; whole groups of 16 of them add exactly 0 to its sums, so
                // the row can stop at the group holding the last visible key.
                const int n_row = (visible + ggml_order::kLanes - 1) / ggml_order::kLanes * ggml_order::kLanes;
                std::fill(scores + visible, scores + n_row, -INFINITY);  // masked keys of the last group
                std::fill(scores, scores + lo, -INFINITY);               // keys behind a local layer's window
                kern.softmax(scores, n_row);
                if (capture != nullptr)
                    std::copy(scores + lo, scores + visible,
                              (*capture)[sz(t)].layers[sz(layer)].probs.data() + sz(h) * sz(visible - lo));
                // The probabilities are converted to f16 to meet an f16 V cache.
                if (cache.value_type() != KvValueType::F32)
                    kern.round_to_f16_values(scores, visible);
                float* out = attn_out_.data() + sz(t) * sz(cfg_.q_dim()) + sz(h) * sz(hd);
                // (Keys past `visible` weigh 0 and add nothing.)
                kern.weighted_sum_v_prefill_blocked(scores, vt_f32_.data() + kv_head * kt_head_floats, visible, hd, out);
            }
        }
    });
}

void CpuBackend::attention_decode(int32_t layer, int first, int visible, int n_padded, const KvCache& cache,
                                  const CpuKvStorage& storage, std::vector<QueryAttention>* capture) {
    // An f16 cache's pages hold K and V transposed (cpu_kv_storage.h): the 16
    // slots of a page are the 16 lanes of llama.cpp's sums, and the sums run
    // in slot order, as llama.cpp's run over its cache cells with the free ones
    // masked. In a cache that never evicted, slot j holds rank j and that is
    // llama.cpp's order exactly; otherwise the scores are moved to rank order
    // for the softmax (and the capture), and the probabilities back to slots.
    const std::vector<int32_t>& held = cache.held_slots(layer);
    const int32_t hd = cfg_.head_dim;
    const int32_t group = cfg_.gqa_group();  // query heads per KV head
    // Scores are q·k times the scale, or (gemma3) q is scaled first, which
    // rounds differently once q meets the f16 cache (small values go subnormal).
    const float scale = cfg_.scale_query ? 1.0f : cfg_.attention_scale;
    const float q_scale = cfg_.scale_query ? cfg_.attention_scale : 1.0f;
    const CpuKernels& kern = cpu_kernels();
    const size_t stride = sz(n_padded);
    // Q meets the f16 K cache as f16 values, as llama.cpp converts it.
    decode_q16_.resize(sz(cfg_.q_dim()));
    for (int32_t i = 0; i < cfg_.q_dim(); ++i) decode_q16_[sz(i)] = q_[sz(i)] * q_scale;  // ggml_scale (gemma3) or × 1
    kern.round_to_f16_values(decode_q16_.data(), cfg_.q_dim());
    decode_scores_.resize(sz(cfg_.n_head) * stride);

    // The pages in slot order and which of their slots count.
    const bool slot_is_rank = held_in_slot_order(held, visible);
    int32_t slot_end = 0;  // one past the highest slot that counts
    for (int j = 0; j < visible; ++j) slot_end = std::max(slot_end, held[sz(j)] + 1);
    const int n_slots = slot_is_rank ? n_padded : ggml_order::padded_keys(slot_end);
    const int32_t n_pages = n_slots / kPageSize;
    const int32_t allocated = storage.pages(layer, 0);
    decode_lane_mask_.assign(sz(n_pages), 0);
    decode_k_pages_.resize(sz(n_pages));
    decode_v_pages_.resize(sz(n_pages));
    for (int32_t b = 0; b < n_pages; ++b) {
        decode_k_pages_[sz(b)] = b < allocated ? storage.k_page_f16(layer, 0, b) : nullptr;
        decode_v_pages_[sz(b)] = b < allocated ? storage.v_page_f16(layer, 0, b) : nullptr;
    }
    for (int j = first; j < visible; ++j) {  // keys behind a local layer's window do not count
        const int32_t slot = held[sz(j)];
        decode_lane_mask_[sz(slot / kPageSize)] |= static_cast<uint16_t>(1u << (slot % kPageSize));
    }
    // Scores and probabilities by slot: [n_head][n_slots].
    float* by_slot = decode_scores_.data();
    size_t slot_stride = stride;
    if (!slot_is_rank) {
        decode_slot_values_.resize(sz(cfg_.n_head) * sz(n_slots));
        by_slot = decode_slot_values_.data();
        slot_stride = sz(n_slots);
    }

    // 1. Scores, split over pages: each slot's dot is a sum of its own.
    pool_.parallel_for(n_pages, [&](int64_t b0, int64_t b1, int) {
        kern.scores_f16_decode_pages(decode_q16_.data(), cfg_.n_head_kv, group, decode_k_pages_.data(),
                                     decode_lane_mask_.data(), static_cast<int>(b0), static_cast<int>(b1), hd, scale,
                                     by_slot, slot_stride);
    });
    // 2. Softmax per head in rank order; the capture keeps the probabilities
    //    themselves, P·V reads them rounded to f16 to meet the f16 V cache.
    pool_.parallel_for(cfg_.n_head, [&](int64_t h0, int64_t h1, int) {
        for (int64_t h = h0; h < h1; ++h) {
            float* scores = decode_scores_.data() + sz(h) * stride;
            float* slots = by_slot + sz(h) * slot_stride;
            if (!slot_is_rank)
                for (int j = 0; j < visible; ++j) scores[j] = slots[sz(held[sz(j)])];
            std::fill(scores + visible, scores + n_padded, -INFINITY);  // masked and padded keys
            std::fill(scores, scores + first, -INFINITY);               // keys behind a local layer's window
            kern.softmax(scores, n_padded);
            if (capture != nullptr)
                std::copy(scores + first, scores + visible,
                          (*capture)[0].layers[sz(layer)].probs.data() + sz(h) * sz(visible - first));
            kern.round_to_f16_values(scores, visible);
            if (!slot_is_rank) {
                std::fill(slots, slots + n_slots, 0.0f);  // free slots weigh nothing
                for (int j = 0; j < visible; ++j) slots[sz(held[sz(j)])] = scores[j];
            }
        }
    });
    // 3. P·V over the V pages, split over KV heads and blocks of output
    //    dimensions (each dimension is a sum of its own).
    const int32_t d_block = hd % 32 == 0 ? 32 : 16;
    const int32_t blocks = hd / d_block;
    pool_.parallel_for(int64_t{cfg_.n_head_kv} * blocks, [&](int64_t i0, int64_t i1, int thread) {
        AttentionScratch& sc = attention_scratch_[sz(thread)];
        sc.v_acc.resize(sz(std::min(group, 4)) * 64 * sz(d_block));
        for (int64_t i = i0; i < i1; ++i) {
            const int32_t g = static_cast<int32_t>(i / blocks);
            const int32_t d0 = static_cast<int32_t>(i % blocks) * d_block;
            const size_t first_head = sz(g) * sz(group);
            kern.weighted_sum_v_decode_pages(by_slot + first_head * slot_stride, slot_stride, group,
                                             decode_v_pages_.data(), decode_lane_mask_.data(),
                                             sz(g) * sz(hd) * kPageSize, n_slots, d0, d0 + d_block, sc.v_acc.data(),
                                             attn_out_.data() + first_head * sz(hd), sz(hd));
        }
    });
}

void CpuBackend::forward(const std::vector<int32_t>& tokens, const std::vector<int32_t>& positions, KvCache& cache,
                         float* logits, std::vector<QueryAttention>* capture) {
    if (tokens.empty() || tokens.size() != positions.size()) throw Error("forward: tokens and positions must match");
    const int T = static_cast<int>(tokens.size());
    auto* storage = dynamic_cast<CpuKvStorage*>(&cache.storage());
    if (storage == nullptr)
        throw Error("the CPU backend cannot compute with a KV cache held in " + cache.storage().backend_name() +
                    " memory");
    ensure_scratch(T);
    const ModelWeights& W = model_.weights();
    const int64_t E = cfg_.n_embd;
    const int32_t half = cfg_.rope_dim / 2;
    const bool rotate_at_position = cache.position_mode() == PositionMode::Original;
    if (capture != nullptr) {
        capture->resize(sz(T));
        for (int t = 0; t < T; ++t) {
            (*capture)[sz(t)].position = positions[sz(t)];
            (*capture)[sz(t)].layers.resize(sz(cfg_.n_layer));
        }
    }

    for (int t = 0; t < T; ++t) {
        const int32_t tok = tokens[sz(t)];
        if (tok < 0 || tok >= cfg_.n_vocab)
            throw Error("token id " + std::to_string(tok) + " is outside the vocabulary (0.." +
                        std::to_string(cfg_.n_vocab - 1) + ")");
    }
    // Nothing below throws inside the threads: token ids and slots are checked first.
    std::vector<int32_t>& slots = slot_scratch_;  // [n_layer][T] each token's slot
    slots.resize(sz(cfg_.n_layer) * sz(T));
    for (int32_t l = 0; l < cfg_.n_layer; ++l)
        for (int t = 0; t < T; ++t) {
            const int32_t slot = cache.slot_of(l, positions[sz(t)]);
            if (slot == KvCache::kEmpty)
                throw Error("forward: position " + std::to_string(positions[sz(t)]) + " has no slot in layer " +
                            std::to_string(l));
            slots[sz(l) * sz(T) + sz(t)] = slot;
        }
    const size_t rope_set_floats = sz(T) * sz(half);  // one base's angles for the batch
    for_each_token(T, [&](int t) {
        float* x = x_.data() + sz(t) * sz(E);
        dequantize_row(W.token_embd.type, W.token_embd.row(tokens[sz(t)]), x, E);
        if (cfg_.embedding_scale != 1.0f)
            for (int64_t i = 0; i < E; ++i) x[i] *= cfg_.embedding_scale;  // ggml_scale (gemma3: sqrt(n_embd))
        for (size_t b = 0; b < rope_bases_.size(); ++b)
            cpu::rope_angles(positions[sz(t)], cfg_.rope_dim, rope_bases_[b],
                             rope_cos_.data() + b * rope_set_floats + sz(t) * sz(half),
                             rope_sin_.data() + b * rope_set_floats + sz(t) * sz(half), rope_freq_factors());
    });

    for (int32_t l = 0; l < cfg_.n_layer; ++l) {
        const LayerWeights& L = W.layers[sz(l)];
        // --- attention block ---
        for_each_token(T, [&](int t) {
            cpu::rms_norm(x_.data() + sz(t) * sz(E), L.attn_norm.data(), xn_.data() + sz(t) * sz(E), E, cfg_.rms_eps);
            quantize_for_dot(L.wq.type, xn_.data() + sz(t) * sz(E), E, xq_[sz(t)]);
        });
        if (vec_dot_type(L.wk.type) == vec_dot_type(L.wq.type) && vec_dot_type(L.wv.type) == vec_dot_type(L.wq.type)) {
            matmul({{&L.wq, q_.data()}, {&L.wk, k_.data()}, {&L.wv, v_.data()}}, xq_, T);
        } else {
            matmul({{&L.wq, q_.data()}}, xq_, T);
            quantize_rows(L.wk.type, xn_.data(), E, T, xq_);
            matmul({{&L.wk, k_.data()}}, xq_, T);
            quantize_rows(L.wv.type, xn_.data(), E, T, xq_);
            matmul({{&L.wv, v_.data()}}, xq_, T);
        }
        const size_t rope_set = sz(layer_rope_set_[sz(l)]) * rope_set_floats;
        for_each_token(T, [&](int t) {
            const float* c = rope_cos_.data() + rope_set + sz(t) * sz(half);
            const float* s = rope_sin_.data() + rope_set + sz(t) * sz(half);
            float* k = k_.data() + sz(t) * sz(cfg_.kv_dim());
            float* v = v_.data() + sz(t) * sz(cfg_.kv_dim());
            if (cfg_.qkv_bias) {  // ggml_add of each projection's bias, in f32 (qwen2)
                float* q = q_.data() + sz(t) * sz(cfg_.q_dim());
                for (int32_t i = 0; i < cfg_.q_dim(); ++i) q[i] += L.bq[sz(i)];
                for (int32_t i = 0; i < cfg_.kv_dim(); ++i) k[i] += L.bk[sz(i)];
                for (int32_t i = 0; i < cfg_.kv_dim(); ++i) v[i] += L.bv[sz(i)];
            }
            if (cfg_.qk_norm) {  // each head of Q and K normalised on its own, before RoPE (gemma3)
                float* q = q_.data() + sz(t) * sz(cfg_.q_dim());
                for (int32_t h = 0; h < cfg_.n_head; ++h)
                    cpu::rms_norm(q + sz(h) * sz(cfg_.head_dim), L.attn_q_norm.data(), q + sz(h) * sz(cfg_.head_dim),
                                  cfg_.head_dim, cfg_.rms_eps);
                for (int32_t h = 0; h < cfg_.n_head_kv; ++h)
                    cpu::rms_norm(k + sz(h) * sz(cfg_.head_dim), L.attn_k_norm.data(), k + sz(h) * sz(cfg_.head_dim),
                                  cfg_.head_dim, cfg_.rms_eps);
            }
            // In-cache mode rotates Q and K at their ranks inside attention instead.
            if (rotate_at_position) {
                for (int32_t h = 0; h < cfg_.n_head; ++h)
                    cpu::rope_apply(q_.data() + sz(t) * sz(cfg_.q_dim()) + sz(h) * sz(cfg_.head_dim), cfg_.rope_dim,
                                    cfg_.rope_layout, c, s);
                for (int32_t h = 0; h < cfg_.n_head_kv; ++h)
                    cpu::rope_apply(k + sz(h) * sz(cfg_.head_dim), cfg_.rope_dim, cfg_.rope_layout, c, s);
            }
            storage->store(l, 0, slots[sz(l) * sz(T) + sz(t)], k, v);
        });
        attention(l, positions, cache, *storage, capture);
        quantize_rows(L.wo.type, attn_out_.data(), cfg_.q_dim(), T, xq_);
        matmul({{&L.wo, proj_.data()}}, xq_, T);

        // --- feed-forward block (SwiGLU or GeGLU) ---
        for_each_token(T, [&](int t) {
            float* x = x_.data() + sz(t) * sz(E);
            float* p = proj_.data() + sz(t) * sz(E);
            if (cfg_.post_norms) cpu::rms_norm(p, L.attn_post_norm.data(), p, E, cfg_.rms_eps);
            for (int64_t i = 0; i < E; ++i) x[i] += p[i];  // the residual
            cpu::rms_norm(x, L.ffn_norm.data(), xn_.data() + sz(t) * sz(E), E, cfg_.rms_eps);
            quantize_for_dot(L.w_gate.type, xn_.data() + sz(t) * sz(E), E, xq_[sz(t)]);
        });
        if (vec_dot_type(L.w_up.type) == vec_dot_type(L.w_gate.type)) {
            matmul({{&L.w_gate, gate_.data()}, {&L.w_up, up_.data()}}, xq_, T);
        } else {
            matmul({{&L.w_gate, gate_.data()}}, xq_, T);
            quantize_rows(L.w_up.type, xn_.data(), E, T, xq_);
            matmul({{&L.w_up, up_.data()}}, xq_, T);
        }
        for_each_token(T, [&](int t) {
            float* g = gate_.data() + sz(t) * sz(cfg_.n_ff);
            if (cfg_.ffn_activation == FfnActivation::GeluTanh)
                cpu::geglu_tanh(g, up_.data() + sz(t) * sz(cfg_.n_ff), g, cfg_.n_ff);
            else
                cpu_kernels().swiglu(g, up_.data() + sz(t) * sz(cfg_.n_ff), g, cfg_.n_ff);
            quantize_for_dot(L.w_down.type, g, cfg_.n_ff, xq_[sz(t)]);
        });
        matmul({{&L.w_down, proj_.data()}}, xq_, T);
        for_each_token(T, [&](int t) {
            float* x = x_.data() + sz(t) * sz(E);
            float* p = proj_.data() + sz(t) * sz(E);
            if (cfg_.post_norms) cpu::rms_norm(p, L.ffn_post_norm.data(), p, E, cfg_.rms_eps);
            for (int64_t i = 0; i < E; ++i) x[i] += p[i];  // the residual
        });
    }

    // Logits of the last token only.
    const float* x_last = x_.data() + sz(T - 1) * sz(E);
    cpu::rms_norm(x_last, W.output_norm.data(), xn_.data(), E, cfg_.rms_eps);
    quantize_rows(W.output.type, xn_.data(), E, 1, xq_);
    matmul({{&W.output, logits}}, xq_, 1);
}

BackendMemory CpuBackend::memory() const {
    BackendMemory m;
    m.weights_bytes = model_.weights().total_bytes;
    const size_t floats = x_.size() + xn_.size() + q_.size() + k_.size() + v_.size() + attn_out_.size() +
                          proj_.size() + gate_.size() + up_.size() + rope_cos_.size() + rope_sin_.size();
    m.scratch_bytes = floats * sizeof(float);
    m.scratch_bytes += (kt_f32_.capacity() + vt_f32_.capacity()) * sizeof(float);
    for (const auto& sc : attention_scratch_)
        m.scratch_bytes += sc.scores.capacity() * sizeof(float) + sc.v_acc.capacity() * sizeof(float) +
                           sc.q16.capacity() * sizeof(float);
    m.scratch_bytes += (decode_q16_.capacity() + decode_scores_.capacity() + decode_slot_values_.capacity()) * sizeof(float) +
                       (decode_k_pages_.capacity() + decode_v_pages_.capacity()) * sizeof(void*) +
                       decode_lane_mask_.capacity() * sizeof(uint16_t);
    for (const auto& q : xq_) m.scratch_bytes += q.bytes.capacity();
    m.device_used = current_rss_bytes();
    m.device_total = total_ram_bytes();
    m.device_is_host = true;
    return m;
}

}  // namespace kvscope
