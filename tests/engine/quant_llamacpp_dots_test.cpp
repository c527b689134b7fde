// Every SIMD level's quantised dot products against ggml's own, bit for bit:
// tests/data/quant/ggml_dots.json holds weight rows quantised by ggml and the
// results of ggml's CPU vec_dot on them (made by
// tools/llamacpp-reference/dump_quant_dots against llama.cpp c392e50, AVX-512
// build; the activations are regenerated here from the same portable stream).
// This checks the kernels and the activation quantiser against an
// implementation that is not ours, type by type; the model fixtures
// (llamacpp_agreement_test) only reach Q4_1 and Q8_0.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backend/cpu/cpu_kernels.h"
#include "quant/quant.h"
#include "support/portable_random.h"
#include "util/simd_level.h"

namespace kvscope {
namespace {

std::vector<uint8_t> from_hex(const std::string& hex) {
    std::vector<uint8_t> out(hex.size() / 2);
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
    return out;
}

CpuKernels::RowDot kernel_for(const CpuKernels& k, TensorType t) {
    switch (t) {
    case TensorType::Q4_0: return k.q4_0;
    case TensorType::Q4_1: return k.q4_1;
    case TensorType::Q5_0: return k.q5_0;
    case TensorType::Q5_1: return k.q5_1;
    case TensorType::Q8_0: return k.q8_0;
    case TensorType::Q4_K: return k.q4_K;
    case TensorType::Q5_K: return k.q5_K;
    case TensorType::Q6_K: return k.q6_K;
    default: return nullptr;
    }
}

TensorType type_named(const std::string& name) {
    for (TensorType t : {TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0,
                         TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K})
        if (name == tensor_type_name(t)) return t;
    ADD_FAILURE() << "unknown type in the fixture: " << name;
    return TensorType::F32;
}

class GgmlQuantDots : public ::testing::TestWithParam<SimdLevel> {};

TEST_P(GgmlQuantDots, EveryCaseGivesGgmlsBits) {
    if (!simd_level_runs_here(GetParam()))
        GTEST_SKIP() << simd_level_name(GetParam()) << " does not run here: " << simd_report();
    std::ifstream in(std::string(KVSCOPE_TEST_DATA_DIR) + "/quant/ggml_dots.json");
    ASSERT_TRUE(in) << "tests/data/quant/ggml_dots.json is part of the repository";
    const nlohmann::json fixture = nlohmann::json::parse(in);
    const CpuKernels& k = cpu_kernels(GetParam());
    int checked = 0;
    std::vector<std::string> types_seen;
    for (const auto& c : fixture.at("cases")) {
        const TensorType t = type_named(c.at("type").get<std::string>());
        const int n = c.at("n").get<int>();
        std::vector<float> weights(static_cast<size_t>(n)), activation(static_cast<size_t>(n));
        test::quant_dot_case_values(c.at("seed").get<uint64_t>(), n, weights.data(), activation.data());
        const std::vector<uint8_t> row = from_hex(c.at("weights_hex").get<std::string>());
        ASSERT_EQ(row.size(), row_bytes(t, n)) << c.at("type") << " n " << n;
        QuantizedVector q;
        quantize_for_dot(t, activation.data(), n, q);
        const float got = kernel_for(k, t)(row.data(), q.bytes.data(), n);
        uint32_t bits;
        std::memcpy(&bits, &got, 4);
        const uint32_t want = static_cast<uint32_t>(std::stoul(c.at("dot_bits").get<std::string>(), nullptr, 16));
        EXPECT_EQ(bits, want) << c.at("type").get<std::string>() << " n " << n << ": got " << got << ", ggml "
                              << c.at("dot").get<double>();
        ++checked;
    }
    EXPECT_EQ(checked, 32) << "8 types x 4 lengths";
}

INSTANTIATE_TEST_SUITE_P(Levels, GgmlQuantDots,
                         ::testing::Values(SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512),
                         [](const auto& level) { return std::string(simd_level_name(level.param)); });

}  // namespace
}  // namespace kvscope
