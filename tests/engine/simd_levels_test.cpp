// The same numbers on every CPU: each SIMD level's kernels (util/simd_level.h)
// give the scalar kernels' bits, and the whole model's logits are identical
// at every level that runs here and equal to llama.cpp's fixture values.
// Levels this CPU lacks are skipped with what it lacks (simd_report()).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include <nlohmann/json.hpp>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_kernels.h"
#include "session/session.h"
#include "support/model_path.h"
#include "support/shared_model.h"
#include "util/error.h"
#include "util/fp16.h"
#include "util/simd_level.h"

namespace kvscope {
namespace {

uint32_t bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

std::vector<uint32_t> bits(const std::vector<float>& v) {
    std::vector<uint32_t> out(v.size());
    std::memcpy(out.data(), v.data(), v.size() * 4);
    return out;
}

// Restores the level in force before the test.
class ScopedSimdLevel {
public:
    explicit ScopedSimdLevel(SimdLevel level) : saved_(active_simd_level()) { set_simd_level(level); }
    ~ScopedSimdLevel() { set_simd_level(saved_); }
    ScopedSimdLevel(const ScopedSimdLevel&) = delete;
    ScopedSimdLevel& operator=(const ScopedSimdLevel&) = delete;

private:
    SimdLevel saved_;
};

class SimdLevels : public ::testing::TestWithParam<SimdLevel> {
protected:
    void SetUp() override {
        if (!simd_level_runs_here(GetParam()))
            GTEST_SKIP() << simd_level_name(GetParam()) << " does not run here: " << simd_report();
    }
};

// f16-representable values as floats (what the decode path feeds dot_f16_decode).
std::vector<float> f16_valued(int n, std::mt19937& rng, float sd) {
    std::normal_distribution<float> nd(0.f, sd);
    std::vector<float> v(n);
    for (auto& x : v) x = fp16_to_f32(f32_to_fp16(nd(rng)));
    return v;
}

std::vector<uint16_t> f16_row(int n, std::mt19937& rng, float sd) {
    std::normal_distribution<float> nd(0.f, sd);
    std::vector<uint16_t> v(n);
    for (auto& x : v) x = f32_to_fp16(nd(rng));
    return v;
}

TEST_P(SimdLevels, AttentionKernelsGiveTheScalarBits) {
    const CpuKernels& k = cpu_kernels(GetParam());
    const CpuKernels& s = cpu_kernels(SimdLevel::Scalar);
    std::mt19937 rng(11);
    // Dots over a head: lengths below, at and past the 64-element blocks, with tails.
    for (int n : {16, 48, 64, 80, 128, 200, 256}) {
        for (int trial = 0; trial < 10; ++trial) {
            const auto q = f16_valued(n, rng, 1.f);
            const auto kh = f16_row(n, rng, 1.f);
            EXPECT_EQ(bits(k.dot_f16_decode(q.data(), kh.data(), n)), bits(s.dot_f16_decode(q.data(), kh.data(), n)))
                << "dot_f16_decode n " << n;
            if (n % 16 == 0) {
                std::vector<float> kf(n);
                for (int i = 0; i < n; ++i) kf[i] = fp16_to_f32(kh[i]);
                EXPECT_EQ(bits(k.dot_prefill_f32(q.data(), kf.data(), n)), bits(s.dot_prefill_f32(q.data(), kf.data(), n)))
                    << "dot_prefill_f32 n " << n;
            }
        }
    }
    // Softmax over padded score rows, masked entries -inf, one row far from 0.
    for (int n : {32, 64, 96, 512}) {
        std::normal_distribution<float> nd(0.f, 4.f);
        std::vector<float> x(n);
        for (int i = 0; i < n; ++i) x[i] = i % 7 == 3 ? -std::numeric_limits<float>::infinity() : nd(rng) + (n == 96 ? 80.f : 0.f);
        std::vector<float> a = x, b = x;
        k.softmax(a.data(), n);
        s.softmax(b.data(), n);
        EXPECT_EQ(bits(a), bits(b)) << "softmax n " << n;
    }
    // Scores far below the maximum: exp's results turn subnormal (2^n below
    // 2^-126, a scaling in two steps) and then 0 (n below -192).
    for (int n : {64, 1024}) {
        std::normal_distribution<float> nd(0.f, 60.f);
        std::vector<float> x(n);
        for (int i = 0; i < n; ++i) x[i] = std::min(nd(rng), 0.0f);
        x[5] = -87.5f;  // 2^n just below the normal range, relative to a maximum of 0 ...
        x[6] = -133.0f;  // ... n near -192
        x[7] = 0.0f;
        std::vector<float> a = x, b = x;
        k.softmax(a.data(), n);
        s.softmax(b.data(), n);
        EXPECT_EQ(bits(a), bits(b)) << "softmax with subnormal exps, n " << n;
        EXPECT_GT(b[5], 0.0f);
        EXPECT_LT(b[5], std::numeric_limits<float>::min()) << "the row must reach exp's subnormal range";
    }
    // P·V for decode (f16 rows) and prefill (float rows), key counts with tails.
    for (int head_dim : {64, 256}) {
        for (int n_keys : {1, 31, 64, 65, 130}) {
            std::uniform_real_distribution<float> ud(0.f, 1.f);
            std::vector<float> p(n_keys);
            for (auto& v : p) v = fp16_to_f32(f32_to_fp16(ud(rng) / n_keys));
            std::vector<std::vector<uint16_t>> vh(n_keys);
            std::vector<std::vector<float>> vf(n_keys);
            std::vector<const uint16_t*> vh_rows(n_keys);
            std::vector<const float*> vf_rows(n_keys);
            for (int t = 0; t < n_keys; ++t) {
                vh[t] = f16_row(head_dim, rng, 1.f);
                vf[t].resize(head_dim);
                for (int d = 0; d < head_dim; ++d) vf[t][d] = fp16_to_f32(vh[t][d]);
                vh_rows[t] = vh[t].data();
                vf_rows[t] = vf[t].data();
            }
            std::vector<float> scratch(64 * head_dim), a(head_dim), b(head_dim);
            k.weighted_sum_v_decode(p.data(), vh_rows.data(), n_keys, head_dim, scratch.data(), a.data());
            s.weighted_sum_v_decode(p.data(), vh_rows.data(), n_keys, head_dim, scratch.data(), b.data());
            EXPECT_EQ(bits(a), bits(b)) << "weighted_sum_v_decode keys " << n_keys << " head_dim " << head_dim;
            k.weighted_sum_v_prefill_f32(p.data(), vf_rows.data(), n_keys, head_dim, scratch.data(), a.data());
            s.weighted_sum_v_prefill_f32(p.data(), vf_rows.data(), n_keys, head_dim, scratch.data(), b.data());
            EXPECT_EQ(bits(a), bits(b)) << "weighted_sum_v_prefill_f32 keys " << n_keys << " head_dim " << head_dim;
        }
    }
    // Rounding to f16 values: ordinary, tied, subnormal, overflowing, signed zero and infinite values, with tails.
    {
        std::vector<float> x = {0.f, -0.f, 1.f, 1.0f + 0x1p-11f, 1.0f + 0x1p-11f + 0x1p-23f, 1.0f + 3 * 0x1p-11f,
                                0x1p-20f, -0x1.8p-24f, 0x1p-26f, 65504.f, 65519.f, 65520.f, -70000.f, 1e-30f,
                                std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
        std::normal_distribution<float> nd(0.f, 3.f);
        for (int i = 0; i < 1000; ++i) x.push_back(nd(rng) * (i % 3 == 0 ? 1e-5f : 1.f));
        for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{9}, static_cast<int64_t>(x.size())}) {
            std::vector<float> a(x.begin(), x.begin() + n), b = a;
            k.round_to_f16_values(a.data(), n);
            for (auto& v : b) v = fp16_to_f32(f32_to_fp16(v));
            EXPECT_EQ(bits(a), bits(b)) << "round_to_f16_values n " << n;
        }
    }
    // SwiGLU with tails (lengths not a multiple of 16) and large |gate|.
    for (int64_t n : {1, 15, 16, 17, 1536, 1543}) {
        std::normal_distribution<float> nd(0.f, 30.f);
        std::vector<float> gate(n), up(n), a(n), b(n);
        for (int64_t i = 0; i < n; ++i) gate[i] = nd(rng), up[i] = nd(rng);
        k.swiglu(gate.data(), up.data(), a.data(), n);
        s.swiglu(gate.data(), up.data(), b.data(), n);
        EXPECT_EQ(bits(a), bits(b)) << "swiglu n " << n;
    }
}

// Decode's P·V over V pages (all query heads of a KV head at once, a block of
// output dimensions) gives the bits of the one-head row form, for every split
// of the dimensions, with zero probabilities, free slots holding garbage, and
// key counts past and between the 64-key blocks and the kernel's chunks.
TEST_P(SimdLevels, PagedDecodePvGivesTheRowFormsBits) {
    const CpuKernels& k = cpu_kernels(GetParam());
    std::mt19937 rng(23);
    for (int head_dim : {64, 256}) {
        for (int n_q : {1, 3, 5}) {
            for (int n_keys : {1, 31, 64, 96, 130, 224, 1100}) {
                const int n_heads_kv = 2, kv_dim = n_heads_kv * head_dim;
                // Slots of [n_heads_kv][head_dim] f16 values.
                std::vector<std::vector<uint16_t>> slot_v(n_keys);
                for (int t = 0; t < n_keys; ++t) slot_v[t] = f16_row(kv_dim, rng, 1.f);
                const size_t offset = static_cast<size_t>(head_dim);  // the second KV head
                // P·V over the same V held in pages of 16 slots transposed, every
                // head of the group at once, for every split of the dimensions.
                // Some slots are free (their lane bit clear) and hold garbage,
                // NaN and infinity included, which must weigh nothing; some held
                // slots have probability 0; pages past the last slot are nullptr.
                const int n_slots = (n_keys + 15) / 16 * 16 + (n_keys % 3 == 0 ? 32 : 0);
                const int n_pages = n_slots / 16;
                std::vector<std::vector<uint16_t>> pages(n_pages, std::vector<uint16_t>(static_cast<size_t>(kv_dim) * 16));
                std::vector<const uint16_t*> page_ptrs(n_pages, nullptr);
                std::vector<uint16_t> lane_mask(n_pages, 0);
                const uint16_t garbage[] = {0x7E00 /* NaN */, 0x7C00 /* inf */, 0xFC00 /* -inf */, 0x3C00 /* 1 */};
                for (int t = 0; t < n_slots; ++t) {
                    const bool held = t < n_keys && t % 11 != 4;
                    if (held) lane_mask[t / 16] |= static_cast<uint16_t>(1u << (t % 16));
                    page_ptrs[t / 16] = pages[t / 16].data();
                    for (int i = 0; i < kv_dim; ++i)
                        pages[t / 16][static_cast<size_t>(i) * 16 + t % 16] = held ? slot_v[t][i] : garbage[(t + i) % 4];
                }
                for (int b = 0; b < n_pages; ++b)
                    if (lane_mask[b] == 0 && b * 16 >= n_keys) page_ptrs[b] = nullptr;
                std::uniform_real_distribution<float> ud(0.f, 1.f);
                const size_t stride = static_cast<size_t>(n_slots) + 5;
                std::vector<float> p(n_q * stride, 0.f);
                for (int qi = 0; qi < n_q; ++qi)
                    for (int t = 0; t < n_keys; ++t)
                        if (lane_mask[t / 16] >> (t % 16) & 1)
                            p[qi * stride + t] = (t * 7 + qi) % 5 == 2 ? 0.f : fp16_to_f32(f32_to_fp16(ud(rng) / n_keys));
                // The one-head row form over the same slots (free ones with probability 0 are skipped).
                std::vector<std::vector<float>> want(n_q, std::vector<float>(head_dim));
                std::vector<float> scratch(64 * head_dim);
                std::vector<uint16_t> zero_row(kv_dim, 0);
                for (int qi = 0; qi < n_q; ++qi) {
                    std::vector<const uint16_t*> rows(n_slots);
                    for (int t = 0; t < n_slots; ++t) rows[t] = (t < n_keys ? slot_v[t].data() : zero_row.data()) + offset;
                    k.weighted_sum_v_decode(p.data() + qi * stride, rows.data(), n_slots, head_dim, scratch.data(),
                                            want[qi].data());
                }
                for (int block : {16, 32, head_dim}) {
                    std::vector<float> out(n_q * head_dim, -1.f), pages_scratch(std::min(n_q, 4) * 64 * block);
                    for (int d0 = 0; d0 < head_dim; d0 += block)
                        k.weighted_sum_v_decode_pages(p.data(), stride, n_q, page_ptrs.data(), lane_mask.data(),
                                                      offset * 16, n_slots, d0, d0 + block, pages_scratch.data(),
                                                      out.data(), head_dim);
                    for (int qi = 0; qi < n_q; ++qi)
                        EXPECT_EQ(bits(std::vector<float>(out.begin() + qi * head_dim, out.begin() + (qi + 1) * head_dim)),
                                  bits(want[qi]))
                            << "weighted_sum_v_decode_pages head " << qi << " keys " << n_keys << " slots " << n_slots
                            << " block " << block;
                }
            }
        }
    }
}

// Decode's scores over K held in pages of 16 slots transposed give
// dot_f16_decode's bits for every slot of a page that counts, for head sizes
// with and without a remainder past the 64s; pages whose mask is 0 are not read.
TEST_P(SimdLevels, PagedDecodeScoresGiveTheRowFormsBits) {
    const CpuKernels& k = cpu_kernels(GetParam());
    std::mt19937 rng(37);
    for (int head_dim : {64, 80, 128, 256}) {
        // Passes of up to 4 (AVX-512) or 2 query heads, with remainders.
        for (int n_q : {1, 2, 3, 4, 5, 7, 8}) {
            const int n_heads_kv = 2, kv_dim = n_heads_kv * head_dim, n_pages = 5;
            std::vector<std::vector<uint16_t>> slot_k(n_pages * 16);
            std::vector<std::vector<uint16_t>> pages(n_pages, std::vector<uint16_t>(static_cast<size_t>(kv_dim) * 16));
            for (int t = 0; t < n_pages * 16; ++t) {
                slot_k[t] = f16_row(kv_dim, rng, 1.f);
                for (int i = 0; i < kv_dim; ++i) pages[t / 16][static_cast<size_t>(i) * 16 + t % 16] = slot_k[t][i];
            }
            const std::vector<uint16_t> lane_mask = {0xFFFF, 0x0000, 0x8001, 0xFFFF, 0x00F0};
            std::vector<const uint16_t*> page_ptrs(n_pages);
            for (int b = 0; b < n_pages; ++b) page_ptrs[b] = lane_mask[b] == 0 ? nullptr : pages[b].data();
            const auto q = f16_valued(n_heads_kv * n_q * head_dim, rng, 1.f);  // [KV head][query head][d]
            const size_t stride = static_cast<size_t>(n_pages) * 16 + 3;
            const float scale = 0.125f;
            std::vector<float> scores(n_heads_kv * n_q * stride, -1.f);
            k.scores_f16_decode_pages(q.data(), n_heads_kv, n_q, page_ptrs.data(), lane_mask.data(), 0, 2, head_dim,
                                      scale, scores.data(), stride);
            k.scores_f16_decode_pages(q.data(), n_heads_kv, n_q, page_ptrs.data(), lane_mask.data(), 2, n_pages,
                                      head_dim, scale, scores.data(), stride);
            for (int h = 0; h < n_heads_kv * n_q; ++h)
                for (int t = 0; t < n_pages * 16; ++t) {
                    const float got = scores[h * stride + t];
                    if (lane_mask[t / 16] == 0) {
                        ASSERT_EQ(bits(got), bits(-1.f)) << "a page with no slot was written";
                        continue;
                    }
                    const size_t kv_head = static_cast<size_t>(h / n_q);
                    ASSERT_EQ(bits(got), bits(k.dot_f16_decode(q.data() + h * head_dim,
                                                               slot_k[t].data() + kv_head * head_dim, head_dim) * scale))
                        << "scores_f16_decode_pages head " << h << " slot " << t << " head_dim " << head_dim;
                }
        }
    }
}

// The prefill kernels over K and V held in blocks of 16 keys transposed give
// the bits of the row forms (one dot_prefill_f32 per key, P·V over row
// pointers), for key counts inside, at and past a block.
TEST_P(SimdLevels, BlockedPrefillKernelsGiveTheRowFormsBits) {
    const CpuKernels& k = cpu_kernels(GetParam());
    std::mt19937 rng(31);
    for (int head_dim : {16, 64, 256}) {
        for (int n_keys : {1, 15, 16, 17, 100}) {
            const int n_blocks = (n_keys + 15) / 16;
            std::vector<std::vector<float>> keys(n_keys);
            std::vector<float> kt(static_cast<size_t>(n_blocks) * 16 * head_dim, 0.f);  // [block][d][16]
            for (int j = 0; j < n_keys; ++j) {
                keys[j] = f16_valued(head_dim, rng, 1.f);
                for (int d = 0; d < head_dim; ++d) kt[(static_cast<size_t>(j / 16) * head_dim + d) * 16 + j % 16] = keys[j][d];
            }
            const auto q = f16_valued(head_dim, rng, 1.f);
            const float scale = 0.125f;
            std::vector<float> scores(n_blocks * 16, -1.f);
            k.scores_prefill_f32(q.data(), kt.data(), n_keys, head_dim, scale, scores.data());
            for (int j = 0; j < n_keys; ++j)
                ASSERT_EQ(bits(scores[j]), bits(k.dot_prefill_f32(q.data(), keys[j].data(), head_dim) * scale))
                    << "scores_prefill_f32 key " << j << " of " << n_keys << " head_dim " << head_dim;

            // P·V over the same blocks (as V rows), zero probabilities among them and past n_keys.
            std::uniform_real_distribution<float> ud(0.f, 1.f);
            std::vector<float> p(n_blocks * 16, 0.f);
            for (int j = 0; j < n_keys; ++j) p[j] = j % 5 == 2 ? 0.f : fp16_to_f32(f32_to_fp16(ud(rng) / n_keys));
            std::vector<const float*> rows(n_keys);
            for (int j = 0; j < n_keys; ++j) rows[j] = keys[j].data();
            std::vector<float> scratch(16 * head_dim), want(head_dim), got(head_dim, -1.f);
            k.weighted_sum_v_prefill_f32(p.data(), rows.data(), n_keys, head_dim, scratch.data(), want.data());
            k.weighted_sum_v_prefill_blocked(p.data(), kt.data(), n_keys, head_dim, got.data());
            EXPECT_EQ(bits(got), bits(want)) << "weighted_sum_v_prefill_blocked keys " << n_keys << " head_dim " << head_dim;
        }
    }
}

// Teacher-forced on a llama.cpp fixture: every logit identical to the scalar
// level's, and llama.cpp's top-10 logits reproduced exactly.
TEST_P(SimdLevels, ModelLogitsAreTheSameAtEveryLevel) {
    const Model* model = test::shared_model();
    if (model == nullptr) {
        if (test::running_in_ci()) FAIL() << test::model_missing_message();
        GTEST_SKIP() << test::model_missing_message();
    }
    std::ifstream in(std::string(KVSCOPE_TEST_DATA_DIR) + "/reference/capital_plain.json");
    ASSERT_TRUE(in) << "tests/data/reference/capital_plain.json is missing";
    const nlohmann::json fx = nlohmann::json::parse(in);
    const auto prompt_ids = fx["prompt_ids"].get<std::vector<TokenId>>();
    const auto ref_ids = fx["generated_ids"].get<std::vector<TokenId>>();
    const int steps = 40;  // past 32 keys: the padded key count grows once

    auto run = [&](SimdLevel level) {
        ScopedSimdLevel scoped(level);
        SessionOptions so;
        so.n_ctx = 256;
        so.top_k_report = 1;
        Session session(*model, std::make_unique<CpuBackend>(*model, 2), so);
        session.prefill(prompt_ids);
        std::vector<std::vector<float>> logits;
        for (int i = 0; i < steps; ++i) {
            session.step(ref_ids[i]);
            logits.push_back(session.logits());
        }
        return logits;
    };
    const auto ours = run(GetParam());
    const auto scalar = GetParam() == SimdLevel::Scalar ? ours : run(SimdLevel::Scalar);
    for (int i = 0; i < steps; ++i) {
        ASSERT_EQ(bits(ours[i]), bits(scalar[i])) << "step " << i << ": logits differ from the scalar level's";
        for (const auto& cand : fx["steps"][i]["top"])
            ASSERT_EQ(bits(ours[i][cand[0].get<int>()]), bits(cand[1].get<float>()))
                << "step " << i << ", token " << cand[0] << ": not llama.cpp's logit";
    }
}

INSTANTIATE_TEST_SUITE_P(Cpu, SimdLevels, ::testing::Values(SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512),
                         [](const auto& level) { return std::string(simd_level_name(level.param)); });

TEST(SimdLevel, NamesParseAndUnknownOnesDoNot) {
    for (SimdLevel l : {SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512})
        EXPECT_EQ(parse_simd_level(simd_level_name(l)), l);
    EXPECT_EQ(parse_simd_level("AVX2"), std::nullopt);
    EXPECT_EQ(parse_simd_level("sse4"), std::nullopt);
    EXPECT_EQ(parse_simd_level(""), std::nullopt);
}

TEST(SimdLevel, ScalarAlwaysRunsAndTheBestIsTheLastThatRuns) {
    const auto levels = simd_levels_here();
    ASSERT_FALSE(levels.empty());
    EXPECT_EQ(levels.front(), SimdLevel::Scalar);
    EXPECT_EQ(best_simd_level(), levels.back());
    EXPECT_NE(simd_report().find(simd_level_name(best_simd_level())), std::string::npos) << simd_report();
}

TEST(SimdLevel, ALevelThisCpuLacksIsRefusedWithWhatItLacks) {
    const auto levels = simd_levels_here();
    if (levels.back() == SimdLevel::Avx512) GTEST_SKIP() << "every level runs here: " << simd_report();
    const SimdLevel before = active_simd_level();
    try {
        set_simd_level(SimdLevel::Avx512);
        ADD_FAILURE() << "avx512 was accepted on a CPU without it";
    } catch (const InvalidSetting& e) {
        EXPECT_NE(std::string(e.what()).find("avx512"), std::string::npos) << e.what();
    }
    EXPECT_EQ(active_simd_level(), before) << "a refused level must leave the active one in force";
    EXPECT_THROW(cpu_kernels(SimdLevel::Avx512), Error);
}

}  // namespace
}  // namespace kvscope
