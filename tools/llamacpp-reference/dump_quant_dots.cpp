// dump_quant_dots: ggml's own dot products of quantised weight rows with
// quantised activations, for KVScope's kernels to match bit for bit
// (tests/engine/quant_llamacpp_dots_test.cpp reads the output,
// tests/data/quant/ggml_dots.json).
//
// For each weight type and case: n weights and n activations from
// tests/support/portable_random.h (the test regenerates the activations), the
// weights quantised by ggml_quantize_chunk (ggml's reference quantiser), the
// activation by the CPU backend's from_float for the type's vec_dot_type, then
// ggml's CPU vec_dot. Written: the weight row's bytes and the dot's bits.
//   dump_quant_dots > tests/data/quant/ggml_dots.json
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ggml-cpu.h"
#include "ggml.h"
#include "portable_random.h"

int main() {
    ggml_cpu_init();  // the f16 tables the CPU kernels read
    struct Type { ggml_type type; const char* name; };
    const Type types[] = {{GGML_TYPE_Q4_0, "Q4_0"}, {GGML_TYPE_Q4_1, "Q4_1"}, {GGML_TYPE_Q5_0, "Q5_0"},
                          {GGML_TYPE_Q5_1, "Q5_1"}, {GGML_TYPE_Q8_0, "Q8_0"}, {GGML_TYPE_Q4_K, "Q4_K"},
                          {GGML_TYPE_Q5_K, "Q5_K"}, {GGML_TYPE_Q6_K, "Q6_K"}};
    const int lengths[] = {256, 512, 768, 2048};  // whole K-quant super-blocks for every type
    nlohmann::json cases = nlohmann::json::array();
    for (const Type& t : types) {
        const ggml_type_traits_cpu* traits = ggml_get_type_traits_cpu(t.type);
        const ggml_type_traits_cpu* act = ggml_get_type_traits_cpu(traits->vec_dot_type);
        for (int n : lengths) {
            const uint64_t seed = 1000u * static_cast<uint64_t>(t.type) + static_cast<uint64_t>(n);
            std::vector<float> w(n), x(n);
            kvscope::test::quant_dot_case_values(seed, n, w.data(), x.data());
            std::vector<uint8_t> wq(ggml_row_size(t.type, n)), xq(ggml_row_size(traits->vec_dot_type, n));
            ggml_quantize_chunk(t.type, w.data(), wq.data(), 0, 1, n, nullptr);
            act->from_float(x.data(), xq.data(), n);
            float dot = 0.0f;
            traits->vec_dot(n, &dot, 0, wq.data(), 0, xq.data(), 0, 1);
            std::string hex;
            char buf[3];
            for (uint8_t b : wq) {
                std::snprintf(buf, sizeof buf, "%02x", b);
                hex += buf;
            }
            uint32_t bits;
            std::memcpy(&bits, &dot, 4);
            char bits_hex[11];
            std::snprintf(bits_hex, sizeof bits_hex, "0x%08" PRIx32, bits);
            cases.push_back({{"type", t.name}, {"n", n}, {"seed", seed}, {"weights_hex", hex}, {"dot", dot},
                             {"dot_bits", bits_hex}});
        }
    }
    nlohmann::json out = {{"meta",
                           {{"llama_cpp_commit", KVS_LLAMA_COMMIT},
                            {"what", "ggml CPU vec_dot of ggml_quantize_chunk weights and from_float activations"},
                            {"system_info", ggml_cpu_has_avx512() ? "AVX512" : (ggml_cpu_has_avx2() ? "AVX2" : "other")}}},
                          {"cases", cases}};
    std::printf("%s\n", out.dump(1).c_str());
    return 0;
}
