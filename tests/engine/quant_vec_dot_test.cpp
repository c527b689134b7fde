// vec_dot / vec_dot_rows on random blocks against a double-precision reference
// built from dequantize_row of the weights and of the quantised activation,
// and every SIMD level's kernels against the scalar ones, bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "quant/block_types.h"
#include "quant/quant.h"
#include "backend/cpu/vec_dot.h"
#include "backend/cpu/cpu_kernels.h"
#include "util/error.h"
#include "util/fp16.h"

namespace kvscope {
namespace {

using quant::BlockQ8_1;
using quant::BlockQ8_K;

// Random weight row of n elements: random bytes everywhere, then every f16
// scale field overwritten with a sane value (random bytes would give inf/NaN).
std::vector<uint8_t> random_row(TensorType t, int64_t n, std::mt19937& rng) {
    std::vector<uint8_t> b(row_bytes(t, n));
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    std::uniform_real_distribution<float> scale(0.001f, 0.05f), sign(-1.f, 1.f), val(-2.f, 2.f);
    auto set_half = [&](size_t at, float v) {
        const uint16_t h = f32_to_fp16(v);
        std::memcpy(b.data() + at, &h, 2);
    };
    const size_t bb = tensor_type_info(t).block_bytes;
    const int64_t elems = n;
    switch (t) {
    case TensorType::F32:
        for (int64_t i = 0; i < elems; ++i) { const float v = val(rng); std::memcpy(b.data() + 4 * i, &v, 4); }
        break;
    case TensorType::F16:
        for (int64_t i = 0; i < elems; ++i) set_half(2 * static_cast<size_t>(i), val(rng));
        break;
    case TensorType::BF16:
        for (int64_t i = 0; i < elems; ++i) { const uint16_t h = f32_to_bf16(val(rng)); std::memcpy(b.data() + 2 * i, &h, 2); }
        break;
    case TensorType::Q4_0:
    case TensorType::Q5_0:
    case TensorType::Q8_0:
        for (size_t at = 0; at < b.size(); at += bb) set_half(at, scale(rng));
        break;
    case TensorType::Q4_1:
    case TensorType::Q5_1:
        for (size_t at = 0; at < b.size(); at += bb) { set_half(at, scale(rng)); set_half(at + 2, sign(rng) * 0.3f); }
        break;
    case TensorType::Q4_K:
    case TensorType::Q5_K:
        for (size_t at = 0; at < b.size(); at += bb) { set_half(at, scale(rng)); set_half(at + 2, scale(rng)); }
        break;
    case TensorType::Q6_K:
        for (size_t at = 0; at < b.size(); at += bb) set_half(at + 208, scale(rng));
        break;
    default:
        ADD_FAILURE() << "no generator for " << tensor_type_name(t);
    }
    return b;
}

std::vector<float> random_activation(int64_t n, std::mt19937& rng) {
    std::normal_distribution<float> nd(0.f, 1.f);
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x) v = nd(rng);
    x[static_cast<size_t>(n / 3)] = 7.5f;  // an outlier, as real activations have
    return x;
}

// The activation as the kernels see it, in floats.
std::vector<double> dequant_activation(const QuantizedVector& q) {
    std::vector<double> x(static_cast<size_t>(q.n));
    if (q.type == TensorType::Q8_1) {  // no dequantize_row for Q8_1 (activation-only type)
        const auto* b = reinterpret_cast<const BlockQ8_1*>(q.bytes.data());
        for (int64_t i = 0; i < q.n; ++i) x[i] = double(b[i / 32].qs[i % 32]) * fp16_to_f32(b[i / 32].d);
    } else if (q.type == TensorType::Q8_K) {
        const auto* b = reinterpret_cast<const BlockQ8_K*>(q.bytes.data());
        for (int64_t i = 0; i < q.n; ++i) x[i] = double(b[i / 256].qs[i % 256]) * b[i / 256].d;
    } else {
        std::vector<float> f(x.size());
        dequantize_row(q.type, q.bytes.data(), f.data(), q.n);
        for (size_t i = 0; i < f.size(); ++i) x[i] = f[i];
    }
    return x;
}

struct Reference {
    double value = 0;
    double scale = 0;  // sum of |w_i x_i|: the size the float rounding error is relative to
};

Reference reference_dot(TensorType t, const std::vector<uint8_t>& row, const QuantizedVector& q) {
    std::vector<float> w(static_cast<size_t>(q.n));
    dequantize_row(t, row.data(), w.data(), q.n);
    const auto x = dequant_activation(q);
    Reference r;
    if (t == TensorType::Q4_1 || t == TensorType::Q5_1) {
        // llama.cpp's Q4_1/Q5_1 x Q8_1 take the min term from Q8_1's s, the sum
        // of the block's activation rounded to f16: use exactly that here too.
        const size_t block_bytes = tensor_type_info(t).block_bytes;  // m is the half at byte 2 of both
        const auto* x1 = reinterpret_cast<const BlockQ8_1*>(q.bytes.data());
        for (int64_t ib = 0; ib < q.n / 32; ++ib) {
            uint16_t m16;
            std::memcpy(&m16, row.data() + static_cast<size_t>(ib) * block_bytes + 2, 2);
            const double m = fp16_to_f32(m16);
            for (int i = 0; i < 32; ++i) {
                const double term = (w[32 * ib + i] - m) * x[32 * ib + i];  // the q*d part
                r.value += term;
                r.scale += std::fabs(term);
            }
            const double mins = m * fp16_to_f32(x1[ib].s);
            r.value += mins;
            r.scale += std::fabs(mins);
        }
        return r;
    }
    for (size_t i = 0; i < w.size(); ++i) {
        r.value += double(w[i]) * x[i];
        r.scale += std::fabs(double(w[i]) * x[i]);
    }
    return r;
}

const TensorType kAllTypes[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q4_0,
                                TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0,
                                TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};

TEST(QuantVecDot, VecDotTypesMatchLlamaCpp) {
    EXPECT_EQ(vec_dot_type(TensorType::F32), TensorType::F32);
    EXPECT_EQ(vec_dot_type(TensorType::F16), TensorType::F16);
    EXPECT_EQ(vec_dot_type(TensorType::BF16), TensorType::BF16);
    EXPECT_EQ(vec_dot_type(TensorType::Q4_0), TensorType::Q8_0);
    EXPECT_EQ(vec_dot_type(TensorType::Q4_1), TensorType::Q8_1);
    EXPECT_EQ(vec_dot_type(TensorType::Q5_0), TensorType::Q8_0);
    EXPECT_EQ(vec_dot_type(TensorType::Q5_1), TensorType::Q8_1);
    EXPECT_EQ(vec_dot_type(TensorType::Q8_0), TensorType::Q8_0);
    EXPECT_EQ(vec_dot_type(TensorType::Q4_K), TensorType::Q8_K);
    EXPECT_EQ(vec_dot_type(TensorType::Q5_K), TensorType::Q8_K);
    EXPECT_EQ(vec_dot_type(TensorType::Q6_K), TensorType::Q8_K);
    try {
        vec_dot_type(TensorType::IQ2_XS);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("IQ2_XS"), std::string::npos) << e.what();
    }
}

TEST(QuantVecDot, MatchesDoubleReference) {
    std::mt19937 rng(1234);
    for (TensorType t : kAllTypes) {
        for (int64_t n : {256, 512, 1536}) {
            for (int trial = 0; trial < 5; ++trial) {
                const auto row = random_row(t, n, rng);
                const auto xf = random_activation(n, rng);
                QuantizedVector q;
                quantize_for_dot(t, xf.data(), n, q);
                ASSERT_EQ(q.type, vec_dot_type(t));
                const Reference ref = reference_dot(t, row, q);
                const float got = vec_dot(t, row.data(), q);
                EXPECT_NEAR(got, ref.value, 1e-5 * ref.scale + 1e-6)
                    << tensor_type_name(t) << " n=" << n << " trial " << trial;
            }
        }
    }
}

TEST(QuantVecDot, RowsEqualSingleRowDots) {
    std::mt19937 rng(99);
    for (TensorType t : kAllTypes) {
        const int64_t n = 512, rows = 11;  // not a multiple of 4: exercises the tail rows too
        const size_t stride = row_bytes(t, n) + 6;  // rows need not be contiguous
        std::vector<uint8_t> m(stride * rows);
        for (int64_t r = 0; r < rows; ++r) {
            const auto row = random_row(t, n, rng);
            std::copy(row.begin(), row.end(), m.begin() + static_cast<ptrdiff_t>(r * stride));
        }
        QuantizedVector q;
        const auto xf = random_activation(n, rng);
        quantize_for_dot(t, xf.data(), n, q);
        std::vector<float> out(rows);
        vec_dot_rows(t, m.data(), stride, rows, q, out.data());
        for (int64_t r = 0; r < rows; ++r)
            EXPECT_EQ(out[r], vec_dot(t, m.data() + r * stride, q)) << tensor_type_name(t) << " row " << r;
    }
}

// A batch's rows × activations (the tile kernels, 4 rows × 2 activations at a
// time, 2 × 4 for Q5_0/Q5_1) gives each pair the bits of its single dot: odd counts exercise the
// tails, 67 activations more than one call's chunk.
TEST(QuantVecDot, BatchEqualsSingleRowDots) {
    std::mt19937 rng(7);
    for (TensorType t : kAllTypes) {
        const int64_t n = 256, rows = 11;
        const size_t stride = row_bytes(t, n) + 6;
        std::vector<uint8_t> m(stride * rows);
        for (int64_t r = 0; r < rows; ++r) {
            const auto row = random_row(t, n, rng);
            std::copy(row.begin(), row.end(), m.begin() + static_cast<ptrdiff_t>(r * stride));
        }
        for (int n_x : {1, 2, 3, 4, 5, 67}) {
            std::vector<QuantizedVector> xs(n_x);
            for (auto& q : xs) {
                const auto xf = random_activation(n, rng);
                quantize_for_dot(t, xf.data(), n, q);
            }
            const size_t out_stride = rows + 3;
            std::vector<float> out(out_stride * n_x, -1.f);
            vec_dot_rows_batch(t, m.data(), stride, rows, xs.data(), n_x, out.data(), out_stride);
            for (int c = 0; c < n_x; ++c)
                for (int64_t r = 0; r < rows; ++r)
                    ASSERT_EQ(out[c * out_stride + r], vec_dot(t, m.data() + r * stride, xs[c]))
                        << tensor_type_name(t) << " row " << r << " activation " << c << " of " << n_x;
        }
    }
}

TEST(QuantVecDot, RejectsMismatchedActivation) {
    std::mt19937 rng(5);
    const auto xf = random_activation(64, rng);
    QuantizedVector q;
    quantize_for_dot(TensorType::Q8_0, xf.data(), 64, q);
    std::vector<uint8_t> row(row_bytes(TensorType::Q4_1, 64));
    EXPECT_THROW(vec_dot(TensorType::Q4_1, row.data(), q), Error);
    EXPECT_THROW(quantize_for_dot(TensorType::Q4_K, xf.data(), 64, q), Error);  // 64 is not a whole K block
}

// Every SIMD level's kernels give the scalar kernels' bits (the scalar code
// emulates the lanes' order), on random rows of several lengths.
class QuantVecDotLevels : public ::testing::TestWithParam<SimdLevel> {
protected:
    void SetUp() override {
        if (!simd_level_runs_here(GetParam()))
            GTEST_SKIP() << simd_level_name(GetParam()) << " does not run here: " << simd_report();
    }
};

uint32_t bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

TEST_P(QuantVecDotLevels, QuantisedDotsGiveTheScalarBits) {
    const CpuKernels& k = cpu_kernels(GetParam());
    const CpuKernels& s = cpu_kernels(SimdLevel::Scalar);
    struct Case { TensorType t; CpuKernels::RowDot simd, ref; CpuKernels::RowsDot rows; };
    const Case cases[] = {
        {TensorType::Q4_0, k.q4_0, s.q4_0, k.rows_q4_0}, {TensorType::Q4_1, k.q4_1, s.q4_1, k.rows_q4_1},
        {TensorType::Q5_0, k.q5_0, s.q5_0, k.rows_q5_0}, {TensorType::Q5_1, k.q5_1, s.q5_1, k.rows_q5_1},
        {TensorType::Q8_0, k.q8_0, s.q8_0, k.rows_q8_0}, {TensorType::Q4_K, k.q4_K, s.q4_K, nullptr},
        {TensorType::Q5_K, k.q5_K, s.q5_K, nullptr},     {TensorType::Q6_K, k.q6_K, s.q6_K, nullptr},
    };
    std::mt19937 rng(77);
    for (const Case& c : cases) {
        for (int trial = 0; trial < 20; ++trial) {
            const int64_t n = 256 * (1 + trial % 6);
            const auto row = random_row(c.t, n, rng);
            const auto xf = random_activation(n, rng);
            QuantizedVector q;
            quantize_for_dot(c.t, xf.data(), n, q);
            const float want = c.ref(row.data(), q.bytes.data(), n);
            EXPECT_EQ(bits(c.simd(row.data(), q.bytes.data(), n)), bits(want))
                << tensor_type_name(c.t) << " trial " << trial << " n " << n;
            if (c.rows) {
                float out[1];
                c.rows(row.data(), row.size(), 1, q.bytes.data(), n, out);
                EXPECT_EQ(bits(out[0]), bits(want)) << tensor_type_name(c.t) << " rows, trial " << trial;
            }
        }
    }
}

TEST_P(QuantVecDotLevels, FloatDotsGiveTheScalarBitsAndAreAccurate) {
    const CpuKernels& k = cpu_kernels(GetParam());
    const CpuKernels& s = cpu_kernels(SimdLevel::Scalar);
    std::mt19937 rng(3);
    std::normal_distribution<float> nd;
    // Lengths with every kind of tail: below one register, between, odd.
    for (int64_t n : {1, 7, 15, 31, 32, 33, 63, 77, 576, 1000}) {
        std::vector<float> a(n), b(n);
        std::vector<uint16_t> ah(n), bh(n), ab(n), bb(n);
        double ref = 0, scale = 0, ref_h = 0, scale_h = 0, ref_b = 0, scale_b = 0;
        for (int64_t i = 0; i < n; ++i) {
            a[i] = nd(rng);
            b[i] = nd(rng);
            ah[i] = f32_to_fp16(a[i]);
            bh[i] = f32_to_fp16(b[i]);
            ab[i] = f32_to_bf16(a[i]);
            bb[i] = f32_to_bf16(b[i]);
            ref += double(a[i]) * b[i];
            scale += std::fabs(double(a[i]) * b[i]);
            ref_h += double(fp16_to_f32(ah[i])) * fp16_to_f32(bh[i]);
            scale_h += std::fabs(double(fp16_to_f32(ah[i])) * fp16_to_f32(bh[i]));
            ref_b += double(bf16_to_f32(ab[i])) * bf16_to_f32(bb[i]);
            scale_b += std::fabs(double(bf16_to_f32(ab[i])) * bf16_to_f32(bb[i]));
        }
        EXPECT_NEAR(k.f32(a.data(), b.data(), n), ref, 1e-6 * scale) << n;
        EXPECT_NEAR(k.f16(ah.data(), bh.data(), n), ref_h, 1e-6 * scale_h) << n;
        EXPECT_NEAR(k.bf16(ab.data(), bb.data(), n), ref_b, 1e-6 * scale_b) << n;
        EXPECT_EQ(bits(k.f32(a.data(), b.data(), n)), bits(s.f32(a.data(), b.data(), n))) << "f32, n " << n;
        EXPECT_EQ(bits(k.f16(ah.data(), bh.data(), n)), bits(s.f16(ah.data(), bh.data(), n))) << "f16, n " << n;
        EXPECT_EQ(bits(k.bf16(ab.data(), bb.data(), n)), bits(s.bf16(ab.data(), bb.data(), n))) << "bf16, n " << n;
    }
}

INSTANTIATE_TEST_SUITE_P(Simd, QuantVecDotLevels,
                         ::testing::Values(SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512),
                         [](const auto& level) { return std::string(simd_level_name(level.param)); });

}  // namespace
}  // namespace kvscope
