#pragma once
// 8-bit logarithmic code for attention probabilities (the trace stores
// attention this way: a quarter of float, half of fp16).
//
//   code 0        probability below 2^-24 (about 6e-8), zero, negative or NaN
//   code c>=1     2^(-24 + (c - 1) * 24/254): log2 p spaced evenly over [-24, 0]
//   code 255      exactly 1
//
// Encoding rounds to the nearest code in the log domain, so for every p in
// [2^-24, 1] the decoded value is within a factor 2^(12/254) of p: relative
// error at most 3.33 % (kMaxRelativeError). Values above 1 encode as 255.
// Encoding is monotone (p <= q gives code(p) <= code(q)) and exact for 0 and 1.
#include <cstddef>
#include <cstdint>

namespace kvscope::attention_codec {

inline constexpr int kLog2Min = -24;       // smallest code >= 1 decodes to 2^kLog2Min
inline constexpr int kSteps = 254;         // codes 1..255 span [kLog2Min, 0] in kSteps steps
inline constexpr double kMaxRelativeError = 0.0333;  // 2^(12/254) - 1 = 0.03328...

// The decoded value of every code ([256]).
extern const float* const kDecodeTable;

// The smallest float that encodes to each code ([256]; entry 0 unused).
extern const float* const kThresholds;

inline uint8_t encode(float p) {
    // Branch-free binary search: the number of thresholds <= p. NaN compares
    // false everywhere and gives 0.
    unsigned c = 0;
    for (unsigned bit = 128; bit != 0; bit >>= 1) c += (p >= kThresholds[c + bit]) ? bit : 0u;
    return static_cast<uint8_t>(c);
}

inline float decode(uint8_t code) { return kDecodeTable[code]; }

void encode(const float* p, size_t n, uint8_t* codes);   // p: [n] -> codes: [n]
void decode(const uint8_t* codes, size_t n, float* p);   // codes: [n] -> p: [n]

}  // namespace kvscope::attention_codec
