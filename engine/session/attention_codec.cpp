#include "session/attention_codec.h"

#include <array>
#include <cmath>

namespace kvscope::attention_codec {
namespace {

double code_log2(double c) { return kLog2Min + (c - 1.0) * (-kLog2Min) / kSteps; }

std::array<float, 256> make_decode_table() {
    std::array<float, 256> t{};  // [256] decoded value per code
    t[0] = 0.0f;
    for (int c = 1; c < 256; ++c) t[c] = static_cast<float>(std::exp2(code_log2(c)));
    t[255] = 1.0f;  // exp2(0) is 1 already; stated for the reader
    return t;
}

std::array<float, 256> make_thresholds() {
    std::array<float, 256> t{};  // [256] smallest float with that code; t[0] unused
    t[0] = 0.0f;
    t[1] = std::ldexp(1.0f, kLog2Min);
    for (int c = 2; c < 256; ++c) {
        // Boundary halfway (in log2) between codes c-1 and c; ties go up.
        const double boundary = std::exp2(code_log2(c - 0.5));
        float f = static_cast<float>(boundary);
        if (static_cast<double>(f) < boundary) f = std::nextafter(f, 2.0f);
        while (static_cast<double>(std::nextafter(f, 0.0f)) >= boundary) f = std::nextafter(f, 0.0f);
        t[c] = f;
    }
    return t;
}

const std::array<float, 256> kDecode = make_decode_table();
const std::array<float, 256> kThresh = make_thresholds();

}  // namespace

const float* const kDecodeTable = kDecode.data();
const float* const kThresholds = kThresh.data();

void encode(const float* p, size_t n, uint8_t* codes) {
    for (size_t i = 0; i < n; ++i) codes[i] = encode(p[i]);
}

void decode(const uint8_t* codes, size_t n, float* p) {
    for (size_t i = 0; i < n; ++i) p[i] = kDecodeTable[codes[i]];
}

}  // namespace kvscope::attention_codec
