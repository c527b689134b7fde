// AVX2 dot products of quantised weight rows with quantised activations.
// Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 are written as one "block step" per type, run over 1 or 4
// rows at a time by a shared driver; each row keeps its own accumulator and
// the exact operation order of llama.cpp's AVX2 ggml_vec_dot_*, so 1-row and
// 4-row results are identical, and identical to llama.cpp.
#include "backend/cpu/vec_dot_avx2.h"

#if KVSCOPE_X86_SIMD
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "quant/block_types.h"

KVSCOPE_TARGET_AVX2
#include "backend/cpu/avx2_helpers.h"

namespace kvscope::quant::avx2 {
namespace {

inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

// ---- Per-type block steps -------------------------------------------------
// Each kernel type K has: W (weight block), X (activation block), Act (what
// is loaded once per activation block and shared by all rows), load(), step()
// (one block of one row into acc/extra) and finish().

struct KQ8_0 {
    using W = BlockQ8_0;
    using X = BlockQ8_0;
    struct Act { __m256i q; float d; };
    static Act load(const X& x) { return {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs)), h2f(x.d)}; }
    struct Prep { __m256i q; float d; };  // a weight block unpacked once for several activations
    static Prep prepare(const W& w) { return {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.qs)), h2f(w.d)}; }
    static void apply(const Prep& p, const Act& a, __m256& acc, float&) {
        const __m256 d = _mm256_set1_ps(p.d * a.d);
        acc = _mm256_fmadd_ps(d, mul_sum_i8_pairs_float(p.q, a.q), acc);
    }
    static void step(const W& w, const Act& a, __m256& acc, float& extra) { apply(prepare(w), a, acc, extra); }
    static float finish(__m256 acc, float) { return hsum_float_8(acc); }
};

struct KQ4_0 {
    using W = BlockQ4_0;
    using X = BlockQ8_0;
    using Act = KQ8_0::Act;
    static Act load(const X& x) { return KQ8_0::load(x); }
    using Prep = KQ8_0::Prep;
    static Prep prepare(const W& w) {
        return {_mm256_sub_epi8(bytes_from_nibbles_32(w.qs), _mm256_set1_epi8(8)), h2f(w.d)};  // [0,15] -> [-8,7]
    }
    static void apply(const Prep& p, const Act& a, __m256& acc, float& extra) { KQ8_0::apply(p, a, acc, extra); }
    static void step(const W& w, const Act& a, __m256& acc, float& extra) { apply(prepare(w), a, acc, extra); }
    static float finish(__m256 acc, float) { return hsum_float_8(acc); }
};

struct KQ4_1 {
    using W = BlockQ4_1;
    using X = BlockQ8_1;
    struct Act { __m256i q; float d; float s; };
    static Act load(const X& x) {
        return {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs)), h2f(x.d), h2f(x.s)};
    }
    // The min term m * sum(x) is accumulated separately in `summs`, as ggml does.
    struct Prep { __m256i q; float d; float m; };
    static Prep prepare(const W& w) { return {bytes_from_nibbles_32(w.qs), h2f(w.d), h2f(w.m)}; }
    static void apply(const Prep& p, const Act& a, __m256& acc, float& summs) {
        summs = __builtin_fmaf(p.m, a.s, summs);  // GCC fuses this in llama.cpp's build
        const __m256 d0d1 = _mm256_set1_ps(p.d * a.d);
        acc = _mm256_fmadd_ps(d0d1, mul_sum_us8_pairs_float(p.q, a.q), acc);
    }
    static void step(const W& w, const Act& a, __m256& acc, float& summs) { apply(prepare(w), a, acc, summs); }
    static float finish(__m256 acc, float summs) { return hsum_float_8(acc) + summs; }
};

// ggml's bytes_from_bits_32: byte j = 0xFF where bit j of the 32 bits is set, else 0.
inline __m256i bytes_from_bits_32(const uint8_t* x) {
    uint32_t x32;
    std::memcpy(&x32, x, sizeof x32);
    const __m256i shuf_mask = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
    const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(x32)), shuf_mask);
    const __m256i bit_mask = _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe);
    return _mm256_cmpeq_epi8(_mm256_or_si256(bytes, bit_mask), _mm256_set1_epi64x(-1));
}

// Q5_0: the nibble with 0xF0 OR-ed in where the fifth bit is clear, i.e. the
// signed byte q - 16, then Q4_0's step (ggml_vec_dot_q5_0_q8_0, AVX2).
struct KQ5_0 {
    using W = BlockQ5_0;
    using X = BlockQ8_0;
    using Act = KQ8_0::Act;
    static Act load(const X& x) { return KQ8_0::load(x); }
    using Prep = KQ8_0::Prep;
    static Prep prepare(const W& w) {
        const __m256i high = _mm256_andnot_si256(bytes_from_bits_32(w.qh), _mm256_set1_epi8(static_cast<char>(0xF0)));
        return {_mm256_or_si256(bytes_from_nibbles_32(w.qs), high), h2f(w.d)};
    }
    static void apply(const Prep& p, const Act& a, __m256& acc, float& extra) { KQ8_0::apply(p, a, acc, extra); }
    static void step(const W& w, const Act& a, __m256& acc, float& extra) { apply(prepare(w), a, acc, extra); }
    static float finish(__m256 acc, float) { return hsum_float_8(acc); }
};

// Q5_1: the nibble with 0x10 OR-ed in where the fifth bit is set, then Q4_1's
// step (ggml_vec_dot_q5_1_q8_1, AVX2: the same products in the same order).
struct KQ5_1 {
    using W = BlockQ5_1;
    using X = BlockQ8_1;
    using Act = KQ4_1::Act;
    static Act load(const X& x) { return KQ4_1::load(x); }
    using Prep = KQ4_1::Prep;
    static Prep prepare(const W& w) {
        const __m256i high = _mm256_and_si256(bytes_from_bits_32(w.qh), _mm256_set1_epi8(0x10));
        return {_mm256_or_si256(bytes_from_nibbles_32(w.qs), high), h2f(w.d), h2f(w.m)};
    }
    static void apply(const Prep& p, const Act& a, __m256& acc, float& summs) { KQ4_1::apply(p, a, acc, summs); }
    static void step(const W& w, const Act& a, __m256& acc, float& summs) { apply(prepare(w), a, acc, summs); }
    static float finish(__m256 acc, float summs) { return KQ4_1::finish(acc, summs); }
};

// R rows starting at w, `stride` bytes apart.
template <class K, int R>
inline void dot_rows_fixed(const uint8_t* w, size_t stride, const typename K::X* x, int64_t nb, float* out) {
    const typename K::W* rows[R];
    __m256 acc[R];
    float extra[R];
    for (int r = 0; r < R; ++r) {
        rows[r] = reinterpret_cast<const typename K::W*>(w + static_cast<size_t>(r) * stride);
        acc[r] = _mm256_setzero_ps();
        extra[r] = 0.0f;
    }
    for (int64_t ib = 0; ib < nb; ++ib) {
        const typename K::Act a = K::load(x[ib]);
        for (int r = 0; r < R; ++r) K::step(rows[r][ib], a, acc[r], extra[r]);
    }
    for (int r = 0; r < R; ++r) out[r] = K::finish(acc[r], extra[r]);
}

template <class K>
void dot_rows(const uint8_t* w, size_t stride, int64_t n_rows, const void* x, int64_t n, float* out) {
    const auto* bx = static_cast<const typename K::X*>(x);
    const int64_t nb = n / 32;
    int64_t r = 0;
    // 4 rows per pass: four independent FMA chains hide the FMA latency that
    // bounds a single row, and each activation block is loaded once. That wins
    // while the matrix is cache-resident (Q4_1 1536x576: ~1.4x), but on
    // matrices streamed from DRAM four interleaved streams measured ~2-3x
    // slower than plain row order (Q8_0 49152x576, even with software
    // prefetch), so big matrices go row by row.
    constexpr size_t kInterleaveMaxBytes = size_t{2} << 20;
    const bool interleave = static_cast<size_t>(n_rows) * stride <= kInterleaveMaxBytes;
    for (; interleave && r + 4 <= n_rows; r += 4) dot_rows_fixed<K, 4>(w + static_cast<size_t>(r) * stride, stride, bx, nb, out + r);
    for (; r < n_rows; ++r) dot_rows_fixed<K, 1>(w + static_cast<size_t>(r) * stride, stride, bx, nb, out + r);
}

// R rows × C activations: each weight block is unpacked once for the C
// activations and each activation block loaded once for the R rows (a batch's
// matrix product). Every (row, activation) pair keeps its own accumulators and
// the 1-row order, so the results equal dot_rows_fixed's bit for bit.
template <class K, int R, int C>
inline void dot_tile_fixed(const uint8_t* w, size_t stride, const typename K::X* const* xs, int64_t nb, float* out,
                           size_t out_stride) {
    const typename K::W* rows[R];
    __m256 acc[R][C];
    float extra[R][C];
    for (int r = 0; r < R; ++r) {
        rows[r] = reinterpret_cast<const typename K::W*>(w + static_cast<size_t>(r) * stride);
        for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps(), extra[r][c] = 0.0f;
    }
    for (int64_t ib = 0; ib < nb; ++ib) {
        typename K::Act a[C];
        for (int c = 0; c < C; ++c) a[c] = K::load(xs[c][ib]);
        for (int r = 0; r < R; ++r) {
            const typename K::Prep p = K::prepare(rows[r][ib]);
            for (int c = 0; c < C; ++c) K::apply(p, a[c], acc[r][c], extra[r][c]);
        }
    }
    for (int c = 0; c < C; ++c)
        for (int r = 0; r < R; ++r) out[static_cast<size_t>(c) * out_stride + static_cast<size_t>(r)] = K::finish(acc[r][c], extra[r][c]);
}

// The tile a batch is cut into: 4 rows × 2 activations, or for the 5-bit
// types 2 rows × 4 activations. Unpacking a Q5 block (its fifth bits spread
// to bytes) costs more than the dot products it feeds, so each unpacked block
// serves 4 activations; 2 × 4 accumulators still fit the 16 AVX2 registers.
template <class K>
struct TileShape {
    static constexpr int kRows = 4, kCols = 2;
};
template <>
struct TileShape<KQ5_0> {
    static constexpr int kRows = 2, kCols = 4;
};
template <>
struct TileShape<KQ5_1> {
    static constexpr int kRows = 2, kCols = 4;
};

// All rows for the C activations xs[0..C): the tile's rows at a time, then the rest one by one.
template <class K, int C>
inline void dot_tile_rows(const uint8_t* w, size_t stride, int64_t n_rows, const typename K::X* const* xs, int64_t nb,
                          float* out, size_t out_stride) {
    constexpr int R = TileShape<K>::kRows;
    int64_t r = 0;
    for (; r + R <= n_rows; r += R)
        dot_tile_fixed<K, R, C>(w + static_cast<size_t>(r) * stride, stride, xs, nb, out + r, out_stride);
    for (; r < n_rows; ++r)
        dot_tile_fixed<K, 1, C>(w + static_cast<size_t>(r) * stride, stride, xs, nb, out + r, out_stride);
}

template <class K>
void dot_tile(const uint8_t* w, size_t stride, int64_t n_rows, const void* const* xs_in, int n_x, int64_t n,
              float* out, size_t out_stride) {
    const auto* const* xs = reinterpret_cast<const typename K::X* const*>(xs_in);
    const int64_t nb = n / 32;
    int c = 0;
    if constexpr (TileShape<K>::kCols == 4)
        for (; c + 4 <= n_x; c += 4)
            dot_tile_rows<K, 4>(w, stride, n_rows, xs + c, nb, out + static_cast<size_t>(c) * out_stride, out_stride);
    for (; c + 2 <= n_x; c += 2)
        dot_tile_rows<K, 2>(w, stride, n_rows, xs + c, nb, out + static_cast<size_t>(c) * out_stride, out_stride);
    for (; c < n_x; ++c)
        dot_tile_rows<K, 1>(w, stride, n_rows, xs + c, nb, out + static_cast<size_t>(c) * out_stride, out_stride);
}

template <class K>
float dot_one(const void* w, const void* x, int64_t n) {
    float out;
    dot_rows_fixed<K, 1>(static_cast<const uint8_t*>(w), 0, static_cast<const typename K::X*>(x), n / 32, &out);
    return out;
}

// ---- K-quants ---------------------------------------------------------------

// Shuffle masks picking scale pair i (as int16) into every 16-bit lane (ggml's get_scale_shuffle_k4).
inline __m256i scale_shuffle_k4(int i) {
    alignas(32) static const uint8_t k_shuffle[8][32] = {
        {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
        {2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3},
        {4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5},
        {6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7},
        {8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9},
        {10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11},
        {12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13},
        {14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15},
    };
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(k_shuffle[i]));
}

// Scale bytes s0 s0 ... (8 times) s1 s1 ... for sub-block pair i of Q6_K (ggml's get_scale_shuffle).
inline __m128i scale_shuffle_q6(int i) {
    alignas(16) static const uint8_t k_shuffle[8][16] = {
        {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1},         {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3},
        {4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5},         {6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7},
        {8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9},         {10, 10, 10, 10, 10, 10, 10, 10, 11, 11, 11, 11, 11, 11, 11, 11},
        {12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13}, {14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15},
    };
    return _mm_load_si128(reinterpret_cast<const __m128i*>(k_shuffle[i]));
}

// Unpacks the 12 scale bytes of a Q4_K/Q5_K block into 8 scales (as uint16
// lanes 0..7) and 8 mins (lanes 8..15), ggml's utmp/kmask shuffle.
inline __m256i unpack_mins_and_scales(const uint8_t* packed) {
    constexpr uint32_t kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
    uint32_t utmp[4];
    std::memcpy(utmp, packed, 12);
    utmp[3] = ((utmp[2] >> 4) & kmask2) | (((utmp[1] >> 6) & kmask3) << 4);
    const uint32_t uaux = utmp[1] & kmask1;
    utmp[1] = (utmp[2] & kmask2) | (((utmp[0] >> 6) & kmask3) << 4);
    utmp[2] = uaux;
    utmp[0] &= kmask1;
    return _mm256_cvtepu8_epi16(_mm_set_epi32(static_cast<int>(utmp[3]), static_cast<int>(utmp[2]),
                                              static_cast<int>(utmp[1]), static_cast<int>(utmp[0])));
}

// The bsums of a Q8_K block summed in pairs (one per 32-element sub-block), times the 8 mins.
inline __m128i mins_times_bsums(__m256i mins_and_scales, const BlockQ8_K& y) {
    const __m256i q8sums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.bsums));
    const __m128i q8s = _mm_hadd_epi16(_mm256_extracti128_si256(q8sums, 0), _mm256_extracti128_si256(q8sums, 1));
    return _mm_madd_epi16(_mm256_extracti128_si256(mins_and_scales, 1), q8s);
}

}  // namespace

float dot_q4_0_q8_0(const void* w, const void* x, int64_t n) { return dot_one<KQ4_0>(w, x, n); }
float dot_q4_1_q8_1(const void* w, const void* x, int64_t n) { return dot_one<KQ4_1>(w, x, n); }
float dot_q5_0_q8_0(const void* w, const void* x, int64_t n) { return dot_one<KQ5_0>(w, x, n); }
float dot_q5_1_q8_1(const void* w, const void* x, int64_t n) { return dot_one<KQ5_1>(w, x, n); }
float dot_q8_0_q8_0(const void* w, const void* x, int64_t n) { return dot_one<KQ8_0>(w, x, n); }

void dot_rows_q4_0_q8_0(const uint8_t* w, size_t stride, int64_t n_rows, const void* x, int64_t n, float* out) {
    dot_rows<KQ4_0>(w, stride, n_rows, x, n, out);
}
void dot_rows_q4_1_q8_1(const uint8_t* w, size_t stride, int64_t n_rows, const void* x, int64_t n, float* out) {
    dot_rows<KQ4_1>(w, stride, n_rows, x, n, out);
}
void dot_rows_q5_0_q8_0(const uint8_t* w, size_t stride, int64_t n_rows, const void* x, int64_t n, float* out) {
    dot_rows<KQ5_0>(w, stride, n_rows, x, n, out);
}
void dot_rows_q5_1_q8_1(const uint8_t* w, size_t stride, int64_t n_rows, const void* x, int64_t n, float* out) {
    dot_rows<KQ5_1>(w, stride, n_rows, x, n, out);
}
void dot_rows_q8_0_q8_0(const uint8_t* w, size_t stride, int64_t n_rows, const void* x, int64_t n, float* out) {
    dot_rows<KQ8_0>(w, stride, n_rows, x, n, out);
}

void dot_tile_q4_0_q8_0(const uint8_t* w, size_t stride, int64_t n_rows, const void* const* xs, int n_x, int64_t n,
                        float* out, size_t out_stride) {
    dot_tile<KQ4_0>(w, stride, n_rows, xs, n_x, n, out, out_stride);
}
void dot_tile_q4_1_q8_1(const uint8_t* w, size_t stride, int64_t n_rows, const void* const* xs, int n_x, int64_t n,
                        float* out, size_t out_stride) {
    dot_tile<KQ4_1>(w, stride, n_rows, xs, n_x, n, out, out_stride);
}
void dot_tile_q5_0_q8_0(const uint8_t* w, size_t stride, int64_t n_rows, const void* const* xs, int n_x, int64_t n,
                        float* out, size_t out_stride) {
    dot_tile<KQ5_0>(w, stride, n_rows, xs, n_x, n, out, out_stride);
}
void dot_tile_q5_1_q8_1(const uint8_t* w, size_t stride, int64_t n_rows, const void* const* xs, int n_x, int64_t n,
                        float* out, size_t out_stride) {
    dot_tile<KQ5_1>(w, stride, n_rows, xs, n_x, n, out, out_stride);
}
void dot_tile_q8_0_q8_0(const uint8_t* w, size_t stride, int64_t n_rows, const void* const* xs, int n_x, int64_t n,
                        float* out, size_t out_stride) {
    dot_tile<KQ8_0>(w, stride, n_rows, xs, n_x, n, out, out_stride);
}

float dot_q4_K_q8_K(const void* w, const void* x, int64_t n) {
    const auto* bw = static_cast<const BlockQ4_K*>(w);
    const auto* by = static_cast<const BlockQ8_K*>(x);
    const __m256i m4 = _mm256_set1_epi8(0xF);
    __m256 acc = _mm256_setzero_ps();
    __m128 acc_m = _mm_setzero_ps();
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const float d = by[i].d * h2f(bw[i].d);
        const float dmin = -by[i].d * h2f(bw[i].dmin);
        const __m256i mins_and_scales = unpack_mins_and_scales(bw[i].scales);
        acc_m = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(mins_times_bsums(mins_and_scales, by[i])), acc_m);

        const __m128i sc128 = _mm256_extracti128_si256(mins_and_scales, 0);
        const __m256i scales = _mm256_inserti128_si256(_mm256_castsi128_si256(sc128), sc128, 1);
        const uint8_t* q4 = bw[i].qs;
        const int8_t* q8 = by[i].qs;
        __m256i sumi = _mm256_setzero_si256();
        for (int j = 0; j < kQK_K / 64; ++j, q4 += 32, q8 += 64) {
            const __m256i scale_l = _mm256_shuffle_epi8(scales, scale_shuffle_k4(2 * j + 0));
            const __m256i scale_h = _mm256_shuffle_epi8(scales, scale_shuffle_k4(2 * j + 1));
            const __m256i q4bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q4));
            const __m256i q4l = _mm256_and_si256(q4bits, m4);
            const __m256i q4h = _mm256_and_si256(_mm256_srli_epi16(q4bits, 4), m4);
            const __m256i q8l = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
            const __m256i q8h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8 + 32));
            const __m256i p16l = _mm256_madd_epi16(scale_l, _mm256_maddubs_epi16(q4l, q8l));
            const __m256i p16h = _mm256_madd_epi16(scale_h, _mm256_maddubs_epi16(q4h, q8h));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p16l, p16h));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    acc_m = _mm_add_ps(acc_m, _mm_movehl_ps(acc_m, acc_m));
    acc_m = _mm_add_ss(acc_m, _mm_movehdup_ps(acc_m));
    return hsum_float_8(acc) + _mm_cvtss_f32(acc_m);
}

float dot_q5_K_q8_K(const void* w, const void* x, int64_t n) {
    const auto* bw = static_cast<const BlockQ5_K*>(w);
    const auto* by = static_cast<const BlockQ8_K*>(x);
    const __m256i m4 = _mm256_set1_epi8(0xF);
    const __m128i mzero = _mm_setzero_si128();
    const __m256i mone = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    float summs = 0.f;
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const float d = by[i].d * h2f(bw[i].d);
        const float dmin = -by[i].d * h2f(bw[i].dmin);
        const __m256i mins_and_scales = unpack_mins_and_scales(bw[i].scales);
        const __m128i prod = mins_times_bsums(mins_and_scales, by[i]);
        const __m128i hsum = _mm_hadd_epi32(_mm_hadd_epi32(prod, mzero), mzero);
        // GCC fuses this multiply-add in llama.cpp's build (C, -ffp-contract=fast); do it explicitly.
        summs = __builtin_fmaf(dmin, static_cast<float>(_mm_extract_epi32(hsum, 0)), summs);

        const __m128i sc128 = _mm256_extracti128_si256(mins_and_scales, 0);
        const __m256i scales = _mm256_inserti128_si256(_mm256_castsi128_si256(sc128), sc128, 1);
        const __m256i hbits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bw[i].qh));
        __m256i hmask = mone;
        const uint8_t* q5 = bw[i].qs;
        const int8_t* q8 = by[i].qs;
        __m256i sumi = _mm256_setzero_si256();
        int bit = 0;
        for (int j = 0; j < kQK_K / 64; ++j, q5 += 32, q8 += 64) {
            const __m256i scale_0 = _mm256_shuffle_epi8(scales, scale_shuffle_k4(2 * j + 0));
            const __m256i scale_1 = _mm256_shuffle_epi8(scales, scale_shuffle_k4(2 * j + 1));
            const __m256i q5bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q5));
            // Fifth bit: isolate it with hmask, move it to bit 4 of each byte.
            const __m256i q5l_0 = _mm256_and_si256(q5bits, m4);
            const __m256i q5h_0 = _mm256_slli_epi16(_mm256_srl_epi16(_mm256_and_si256(hbits, hmask), _mm_cvtsi32_si128(bit++)), 4);
            const __m256i q5_0 = _mm256_add_epi8(q5l_0, q5h_0);
            hmask = _mm256_slli_epi16(hmask, 1);
            const __m256i q5l_1 = _mm256_and_si256(_mm256_srli_epi16(q5bits, 4), m4);
            const __m256i q5h_1 = _mm256_slli_epi16(_mm256_srl_epi16(_mm256_and_si256(hbits, hmask), _mm_cvtsi32_si128(bit++)), 4);
            const __m256i q5_1 = _mm256_add_epi8(q5l_1, q5h_1);
            hmask = _mm256_slli_epi16(hmask, 1);
            const __m256i q8_0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
            const __m256i q8_1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8 + 32));
            const __m256i p16_0 = _mm256_madd_epi16(scale_0, _mm256_maddubs_epi16(q5_0, q8_0));
            const __m256i p16_1 = _mm256_madd_epi16(scale_1, _mm256_maddubs_epi16(q5_1, q8_1));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p16_0, p16_1));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum_float_8(acc) + summs;
}

float dot_q6_K_q8_K(const void* w, const void* x, int64_t n) {
    const auto* bw = static_cast<const BlockQ6_K*>(w);
    const auto* by = static_cast<const BlockQ8_K*>(x);
    const __m256i m4 = _mm256_set1_epi8(0xF);
    const __m256i m2 = _mm256_set1_epi8(3);
    const __m256i m32s = _mm256_set1_epi8(32);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQK_K; ++i) {
        const float d = by[i].d * h2f(bw[i].d);
        const uint8_t* q4 = bw[i].ql;
        const uint8_t* qh = bw[i].qh;
        const int8_t* q8 = by[i].qs;
        const __m128i scales = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bw[i].scales));
        __m256i sumi = _mm256_setzero_si256();
        for (int j = 0, is = 0; j < kQK_K / 128; ++j, is += 4, q4 += 64, qh += 32, q8 += 128) {
            const __m128i scale_0 = _mm_shuffle_epi8(scales, scale_shuffle_q6(is + 0));
            const __m128i scale_1 = _mm_shuffle_epi8(scales, scale_shuffle_q6(is + 1));
            const __m128i scale_2 = _mm_shuffle_epi8(scales, scale_shuffle_q6(is + 2));
            const __m128i scale_3 = _mm_shuffle_epi8(scales, scale_shuffle_q6(is + 3));

            const __m256i q4bits1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q4));
            const __m256i q4bits2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q4 + 32));
            const __m256i q4bitsH = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh));
            const __m256i q4h_0 = _mm256_slli_epi16(_mm256_and_si256(q4bitsH, m2), 4);
            const __m256i q4h_1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(q4bitsH, 2), m2), 4);
            const __m256i q4h_2 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(q4bitsH, 4), m2), 4);
            const __m256i q4h_3 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(q4bitsH, 6), m2), 4);
            const __m256i q4_0 = _mm256_or_si256(_mm256_and_si256(q4bits1, m4), q4h_0);
            const __m256i q4_1 = _mm256_or_si256(_mm256_and_si256(q4bits2, m4), q4h_1);
            const __m256i q4_2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4bits1, 4), m4), q4h_2);
            const __m256i q4_3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4bits2, 4), m4), q4h_3);

            const __m256i q8_0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
            const __m256i q8_1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8 + 32));
            const __m256i q8_2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8 + 64));
            const __m256i q8_3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8 + 96));

            // Quants are stored +32 (unsigned for maddubs); subtract 32 * q8 afterwards.
            const __m256i q8s_0 = _mm256_maddubs_epi16(m32s, q8_0);
            const __m256i q8s_1 = _mm256_maddubs_epi16(m32s, q8_1);
            const __m256i q8s_2 = _mm256_maddubs_epi16(m32s, q8_2);
            const __m256i q8s_3 = _mm256_maddubs_epi16(m32s, q8_3);
            __m256i p16_0 = _mm256_sub_epi16(_mm256_maddubs_epi16(q4_0, q8_0), q8s_0);
            __m256i p16_1 = _mm256_sub_epi16(_mm256_maddubs_epi16(q4_1, q8_1), q8s_1);
            __m256i p16_2 = _mm256_sub_epi16(_mm256_maddubs_epi16(q4_2, q8_2), q8s_2);
            __m256i p16_3 = _mm256_sub_epi16(_mm256_maddubs_epi16(q4_3, q8_3), q8s_3);
            p16_0 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scale_0), p16_0);
            p16_1 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scale_1), p16_1);
            p16_2 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scale_2), p16_2);
            p16_3 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scale_3), p16_3);
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p16_0, p16_1));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p16_2, p16_3));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum_float_8(acc);
}

}  // namespace kvscope::quant::avx2
KVSCOPE_TARGET_END
#endif
