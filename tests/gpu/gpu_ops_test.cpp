// Every CUDA kernel against its host twin (kernels/twin/) on random inputs of
// several sizes, odd ones included, and every weight and KV type. Skipped,
// saying why, where no CUDA device is usable (they never count as passed).
// Tolerances follow test-backend-ops: the same integer math must agree
// exactly; float sums in another order within a normalised MSE of 1e-7, 5e-4
// for mat-vec and attention.
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <random>
#include <vector>

#include "gpu_test_support.h"
#include "kernels/ops.h"
#include "kernels/twin/q8_1.h"
#include "kernels/twin/rope.h"
#include "kernels/twin/softmax.h"
#include "kernels/twin/vec_dot_q8_1.h"
#include "quant/quant.h"
#include "util/fp16.h"

namespace kvscope {
namespace {

using namespace kvscope::test;
using quant::BlockQ8_1;

std::vector<float> random_floats(size_t n, std::mt19937& rng, float scale = 1.0f) {
    std::normal_distribution<float> g(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = g(rng);
    return v;
}

// Random blocks of `t` with ordinary scales (as the CPU twin tests make them).
std::vector<uint8_t> random_row(TensorType t, int64_t n, std::mt19937& rng) {
    std::vector<uint8_t> row(row_bytes(t, n));
    std::uniform_int_distribution<int> byte(0, 255);
    for (auto& b : row) b = static_cast<uint8_t>(byte(rng));
    const TensorTypeInfo& info = tensor_type_info(t);
    std::uniform_real_distribution<float> scale(0.001f, 0.05f);
    for (int64_t blk = 0; blk < n / info.block_elems; ++blk) {
        uint8_t* p = row.data() + blk * info.block_bytes;
        auto set_half = [&](size_t off) {
            const uint16_t h = f32_to_fp16(scale(rng));
            std::memcpy(p + off, &h, 2);
        };
        if (t == TensorType::Q4_0 || t == TensorType::Q5_0 || t == TensorType::Q8_0) set_half(0);
        if (t == TensorType::Q4_1 || t == TensorType::Q5_1 || t == TensorType::Q4_K || t == TensorType::Q5_K) { set_half(0); set_half(2); }
        if (t == TensorType::Q6_K) set_half(offsetof(quant::BlockQ6_K, d));
        if (t == TensorType::F16)
            for (int64_t i = 0; i < n; ++i) {
                const uint16_t h = f32_to_fp16(scale(rng) * (i % 2 ? 1 : -1) * 20);
                std::memcpy(row.data() + 2 * i, &h, 2);
            }
        if (t == TensorType::F32)
            for (int64_t i = 0; i < n; ++i) {
                const float f = scale(rng) * (i % 3 ? 1 : -1) * 20;
                std::memcpy(row.data() + 4 * i, &f, 4);
            }
        if (t == TensorType::BF16)
            for (int64_t i = 0; i < n; ++i) {
                const uint16_t h = f32_to_bf16(scale(rng) * (i % 2 ? 1 : -1) * 20);
                std::memcpy(row.data() + 2 * i, &h, 2);
            }
    }
    return row;
}

// The twin's row dot (blocks summed in order).
float twin_row_dot(TensorType t, const uint8_t* row, int cols, const BlockQ8_1* xq, const float* xf) {
    float s = 0.0f;
    for (int b = 0; b < cols / 32; ++b) {
        switch (t) {
            case TensorType::Q4_0: s += twin::vec_dot_q4_0_q8_1(reinterpret_cast<const quant::BlockQ4_0*>(row)[b], xq[b]); break;
            case TensorType::Q4_1: s += twin::vec_dot_q4_1_q8_1(reinterpret_cast<const quant::BlockQ4_1*>(row)[b], xq[b]); break;
            case TensorType::Q5_0: s += twin::vec_dot_q5_0_q8_1(reinterpret_cast<const quant::BlockQ5_0*>(row)[b], xq[b]); break;
            case TensorType::Q5_1: s += twin::vec_dot_q5_1_q8_1(reinterpret_cast<const quant::BlockQ5_1*>(row)[b], xq[b]); break;
            case TensorType::Q8_0: s += twin::vec_dot_q8_0_q8_1(reinterpret_cast<const quant::BlockQ8_0*>(row)[b], xq[b]); break;
            default: break;
        }
    }
    for (int b = 0; b < cols / 256; ++b) {
        switch (t) {
            case TensorType::Q4_K: s += twin::vec_dot_q4_K_q8_1(reinterpret_cast<const quant::BlockQ4_K*>(row)[b], xq + 8 * b); break;
            case TensorType::Q5_K: s += twin::vec_dot_q5_K_q8_1(reinterpret_cast<const quant::BlockQ5_K*>(row)[b], xq + 8 * b); break;
            case TensorType::Q6_K: s += twin::vec_dot_q6_K_q8_1(reinterpret_cast<const quant::BlockQ6_K*>(row)[b], xq + 8 * b); break;
            default: break;
        }
    }
    if (t == TensorType::F32) s = twin::dot_f32_f32(reinterpret_cast<const float*>(row), xf, cols);
    if (t == TensorType::F16) s = twin::dot_f16_f32(reinterpret_cast<const uint16_t*>(row), xf, cols);
    if (t == TensorType::BF16) s = twin::dot_bf16_f32(reinterpret_cast<const uint16_t*>(row), xf, cols);
    return s;
}

TEST(GpuOps, QuantizeQ8_1EqualsTheTwinExactly) {
    REQUIRE_CUDA_DEVICE();
    std::mt19937 rng(1);
    for (int n : {32, 576, 1536}) {
        for (int T : {1, 3}) {
            const auto x = random_floats(static_cast<size_t>(n) * T, rng, 2.0f);
            auto dx = to_device(x);
            cuda::DeviceBuffer dy(sizeof(BlockQ8_1) * static_cast<size_t>(n / 32) * T, "q8_1");
            cuda::quantize_q8_1(nullptr, dx.as<float>(), dy.as<BlockQ8_1>(), n, T);
            const auto got = to_host<BlockQ8_1>(dy, static_cast<size_t>(n / 32) * T);
            for (size_t b = 0; b < got.size(); ++b) {
                BlockQ8_1 want;
                twin::quantize_block_q8_1(x.data() + 32 * b, want);
                ASSERT_EQ(got[b].d, want.d) << n << " block " << b;
                ASSERT_EQ(got[b].s, want.s) << n << " block " << b;
                ASSERT_EQ(0, std::memcmp(got[b].qs, want.qs, 32)) << n << " block " << b;
            }
        }
    }
}

TEST(GpuOps, MatvecEqualsTheTwinForEveryWeightType) {
    REQUIRE_CUDA_DEVICE();
    std::mt19937 rng(2);
    const TensorType types[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q4_0,
                                TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0,
                                TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};
    for (TensorType t : types) {
        const bool k_quant = t == TensorType::Q4_K || t == TensorType::Q5_K || t == TensorType::Q6_K;
        for (int cols : k_quant ? std::vector<int>{256, 1536} : std::vector<int>{64, 576}) {
            for (int rows : {1, 7, 133}) {
                const int T = rows == 7 ? 3 : 1;  // a batch too
                const size_t rb = row_bytes(t, cols);
                std::vector<uint8_t> w;
                for (int r = 0; r < rows; ++r) {
                    const auto row = random_row(t, cols, rng);
                    w.insert(w.end(), row.begin(), row.end());
                }
                const auto x = random_floats(static_cast<size_t>(cols) * T, rng);
                std::vector<BlockQ8_1> xq(static_cast<size_t>(cols / 32) * T);
                for (size_t b = 0; b < xq.size(); ++b) twin::quantize_block_q8_1(x.data() + 32 * b, xq[b]);
                auto dw = to_device(w);
                auto dxq = to_device(xq);
                auto dx = to_device(x);
                cuda::DeviceBuffer dout(sizeof(float) * static_cast<size_t>(rows) * T, "out");
                cuda::matvec(nullptr, dw.get(), t, rb, rows, cols, dxq.as<BlockQ8_1>(), dx.as<float>(), dout.as<float>(), T);
                const auto got = to_host<float>(dout, static_cast<size_t>(rows) * T);
                std::vector<float> want(got.size());
                for (int tt = 0; tt < T; ++tt)
                    for (int r = 0; r < rows; ++r)
                        want[static_cast<size_t>(tt) * rows + r] =
                            twin_row_dot(t, w.data() + static_cast<size_t>(r) * rb, cols,
                                         xq.data() + static_cast<size_t>(tt) * (cols / 32), x.data() + static_cast<size_t>(tt) * cols);
                EXPECT_LT(nmse(got, want), 5e-4) << tensor_type_name(t) << " " << rows << "x" << cols;
                EXPECT_LT(nmse(got, want), 1e-9) << tensor_type_name(t) << ": the same block dots, summed in another order";
            }
        }
    }
}

TEST(GpuOps, NormRopeSwigluAddAndEmbedMatchTheirTwins) {
    REQUIRE_CUDA_DEVICE();
    std::mt19937 rng(3);
    for (int n : {64, 577, 2048}) {
        const int T = 3;
        const auto x = random_floats(static_cast<size_t>(n) * T, rng), w = random_floats(n, rng);
        auto dx = to_device(x), dw = to_device(w);
        cuda::DeviceBuffer dy(sizeof(float) * x.size(), "y");
        cuda::rms_norm(nullptr, dx.as<float>(), dw.as<float>(), dy.as<float>(), n, T, 1e-5f);
        const auto got = to_host<float>(dy, x.size());
        std::vector<float> want(x.size());
        for (int t = 0; t < T; ++t) twin::rms_norm_row(x.data() + t * n, w.data(), want.data() + t * n, n, 1e-5f);
        EXPECT_LT(nmse(got, want), 1e-10) << "rms_norm " << n;

        const auto up = random_floats(x.size(), rng);
        auto dup = to_device(up);
        cuda::swiglu(nullptr, dx.as<float>(), dup.as<float>(), dy.as<float>(), x.size());
        const auto sw = to_host<float>(dy, x.size());
        for (size_t i = 0; i < x.size(); ++i) want[i] = twin::swiglu(x[i], up[i]);
        EXPECT_LT(nmse(sw, want), 1e-12) << "swiglu";
        cuda::add(nullptr, dx.as<float>(), dup.as<float>(), x.size());
        const auto sum = to_host<float>(dx, x.size());
        for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(sum[i], x[i] + up[i]);
    }
    for (bool neox : {false, true}) {
        const int heads = 9, hd = 64, T = 4;
        const std::vector<int32_t> positions = {0, 5, 4095, 8191};
        const auto q = random_floats(static_cast<size_t>(heads) * hd * T, rng);
        auto dq = to_device(q), dp = to_device(positions);
        cuda::rope(nullptr, dq.as<float>(), heads * hd, heads, hd, hd, neox, dp.as<int32_t>(), T, 100000.0f);
        const auto got = to_host<float>(dq, q.size());
        std::vector<float> want = q;
        for (int t = 0; t < T; ++t)
            for (int h = 0; h < heads; ++h)
                for (int i = 0; i < hd / 2; ++i) {
                    float c, s;
                    twin::rope_angle(positions[static_cast<size_t>(t)], i, hd, 100000.0f, c, s);
                    twin::rope_rotate_pair(want.data() + (t * heads + h) * hd, i, hd, neox, c, s);
                }
        EXPECT_LT(nmse(got, want), 1e-10) << (neox ? "neox" : "normal");
    }
    {  // embedding rows of a Q8_0 table
        const int n = 576, vocab = 40;
        std::vector<uint8_t> table;
        for (int r = 0; r < vocab; ++r) {
            const auto row = random_row(TensorType::Q8_0, n, rng);
            table.insert(table.end(), row.begin(), row.end());
        }
        const std::vector<int32_t> tokens = {3, 39, 0};
        auto dt = to_device(table), dtok = to_device(tokens);
        cuda::DeviceBuffer de(sizeof(float) * n * tokens.size(), "embeddings");
        cuda::embed(nullptr, dt.get(), TensorType::Q8_0, row_bytes(TensorType::Q8_0, n), n, dtok.as<int32_t>(),
                    static_cast<int>(tokens.size()), de.as<float>());
        const auto got = to_host<float>(de, static_cast<size_t>(n) * tokens.size());
        std::vector<float> want(static_cast<size_t>(n));
        for (size_t t = 0; t < tokens.size(); ++t) {
            dequantize_row(TensorType::Q8_0, table.data() + tokens[t] * row_bytes(TensorType::Q8_0, n), want.data(), n);
            for (int i = 0; i < n; ++i) ASSERT_EQ(got[t * n + i], want[static_cast<size_t>(i)]);
        }
    }
}

// K/V stored into pages and attention over held slots, for every KV type:
// the probabilities (the capture) and the output against a host reference
// built from the twins (dequantised cache, fp32 softmax).
TEST(GpuOps, KvStoreAndAttentionMatchTheHostReference) {
    REQUIRE_CUDA_DEVICE();
    std::mt19937 rng(4);
    for (KvValueType type : {KvValueType::F32, KvValueType::F16, KvValueType::Q8_0}) {
        for (bool in_cache : {false, true}) {
            const int n_head = 9, n_kv = 3, hd = 64, kv_dim = n_kv * hd, n_keys = 37, T = 2;
            const size_t head_bytes = type == KvValueType::F32 ? hd * 4 : type == KvValueType::F16 ? hd * 2 : hd / 32 * 34;
            const size_t slot_bytes = head_bytes * n_kv;
            const int pages = (n_keys + kPageSize - 1) / kPageSize;
            std::vector<cuda::DeviceBuffer> kp, vp;
            std::vector<uint8_t*> k_addr, v_addr;
            for (int p = 0; p < pages; ++p) {
                kp.emplace_back(slot_bytes * kPageSize, "k page");
                vp.emplace_back(slot_bytes * kPageSize, "v page");
                k_addr.push_back(kp.back().as<uint8_t>());
                v_addr.push_back(vp.back().as<uint8_t>());
            }
            auto dk_pages = to_device(k_addr), dv_pages = to_device(v_addr);
            // Slots in a shuffled order (a ring buffer after evictions), stored one call per key.
            std::vector<int32_t> slots(n_keys);
            for (int i = 0; i < n_keys; ++i) slots[static_cast<size_t>(i)] = i;
            std::shuffle(slots.begin(), slots.end(), rng);
            const auto k = random_floats(static_cast<size_t>(kv_dim) * n_keys, rng), v = random_floats(k.size(), rng);
            auto dk = to_device(k), dv = to_device(v), dslots = to_device(slots);
            cuda::kv_store(nullptr, dk.as<float>(), dv.as<float>(), kv_dim, dslots.as<int32_t>(), n_keys,
                           dk_pages.as<uint8_t* const>(), dv_pages.as<uint8_t* const>(), slot_bytes, type);
            // The cache as the device holds it, read back: the host reference reads the same bytes.
            auto stored = [&](const std::vector<cuda::DeviceBuffer>& pages_, int key, int i) {
                std::vector<uint8_t> row(slot_bytes);
                const int32_t s = slots[static_cast<size_t>(key)];
                cuda::check(cudaMemcpy(row.data(), pages_[static_cast<size_t>(s / kPageSize)].as<uint8_t>() + (s % kPageSize) * slot_bytes,
                                       slot_bytes, cudaMemcpyDeviceToHost), "cudaMemcpy");
                std::vector<float> f(static_cast<size_t>(kv_dim));
                dequantize_row(type == KvValueType::F32 ? TensorType::F32 : type == KvValueType::F16 ? TensorType::F16 : TensorType::Q8_0,
                               row.data(), f.data(), kv_dim);
                return f[static_cast<size_t>(i)];
            };
            const std::vector<int32_t> visible = {20, n_keys};
            const auto q = random_floats(static_cast<size_t>(n_head) * hd * T, rng);
            auto dq = to_device(q), dvis = to_device(visible);
            cuda::DeviceBuffer dout(sizeof(float) * q.size(), "out"), dprobs(sizeof(float) * T * n_head * n_keys, "probs");
            cuda::AttentionArgs a;
            a.q = dq.as<float>();
            a.out = dout.as<float>();
            a.probs = dprobs.as<float>();
            a.max_keys = n_keys;
            a.held_slots = dslots.as<int32_t>();
            a.n_visible = dvis.as<int32_t>();
            a.k_pages = dk_pages.as<uint8_t* const>();
            a.v_pages = dv_pages.as<uint8_t* const>();
            a.slot_bytes = slot_bytes;
            a.type = type;
            a.T = T;
            a.n_head = n_head;
            a.n_head_kv = n_kv;
            a.head_dim = hd;
            a.rope_dim = hd;
            a.in_cache = in_cache;
            a.freq_base = 100000.0f;
            a.scale = 0.125f;
            cuda::attention(nullptr, a);
            const auto out = to_host<float>(dout, q.size());
            const auto probs = to_host<float>(dprobs, static_cast<size_t>(T) * n_head * n_keys);
            std::vector<float> want_out(q.size()), want_probs, got_probs;
            for (int t = 0; t < T; ++t) {
                const int nv = visible[static_cast<size_t>(t)];
                for (int h = 0; h < n_head; ++h) {
                    const int kvh = h / (n_head / n_kv);
                    std::vector<float> qh(q.begin() + (t * n_head + h) * hd, q.begin() + (t * n_head + h + 1) * hd);
                    if (in_cache)
                        for (int i = 0; i < hd / 2; ++i) {
                            float c, s;
                            twin::rope_angle(nv - 1, i, hd, 100000.0f, c, s);
                            twin::rope_rotate_pair(qh.data(), i, hd, false, c, s);
                        }
                    if (type != KvValueType::F32)
                        for (float& e : qh) e = twin::half_to_float(twin::float_to_half(e));
                    std::vector<float> scores(static_cast<size_t>(nv));
                    for (int j = 0; j < nv; ++j) {
                        std::vector<float> key(static_cast<size_t>(hd));
                        for (int d = 0; d < hd; ++d) key[static_cast<size_t>(d)] = stored(kp, j, kvh * hd + d);
                        if (in_cache)
                            for (int i = 0; i < hd / 2; ++i) {
                                float c, s;
                                twin::rope_angle(j, i, hd, 100000.0f, c, s);
                                twin::rope_rotate_pair(key.data(), i, hd, false, c, s);
                            }
                        float dot = 0;
                        for (int d = 0; d < hd; ++d) dot += qh[static_cast<size_t>(d)] * key[static_cast<size_t>(d)];
                        scores[static_cast<size_t>(j)] = dot * 0.125f;
                    }
                    twin::softmax(scores.data(), nv);
                    for (int j = 0; j < nv; ++j) {
                        want_probs.push_back(scores[static_cast<size_t>(j)]);
                        got_probs.push_back(probs[(static_cast<size_t>(t) * n_head + h) * n_keys + j]);
                    }
                    for (int d = 0; d < hd; ++d) {
                        float acc = 0;
                        for (int j = 0; j < nv; ++j) {
                            const float p = type == KvValueType::F32 ? scores[static_cast<size_t>(j)]
                                                                     : twin::half_to_float(twin::float_to_half(scores[static_cast<size_t>(j)]));
                            acc += p * stored(vp, j, kvh * hd + d);
                        }
                        want_out[(t * n_head + h) * hd + d] = acc;
                    }
                }
            }
            const char* what = kv_value_type_name(type);
            EXPECT_LT(nmse(got_probs, want_probs), 5e-4) << what << (in_cache ? " in-cache" : "") << " probabilities";
            EXPECT_LT(nmse(out, want_out), 5e-4) << what << (in_cache ? " in-cache" : "") << " output";
            for (int t = 0; t < T; ++t)
                for (int h = 0; h < n_head; ++h) {
                    double sum = 0;
                    for (int j = 0; j < visible[static_cast<size_t>(t)]; ++j) sum += probs[(static_cast<size_t>(t) * n_head + h) * n_keys + j];
                    EXPECT_NEAR(sum, 1.0, 1e-5);
                }
        }
    }
}

}  // namespace
}  // namespace kvscope
