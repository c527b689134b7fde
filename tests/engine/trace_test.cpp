// Trace: the attention codec, run lists, storage and budget, export/import.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "session/attention_codec.h"
#include "session/int_runs.h"
#include "session/trace.h"

#include "util/error.h"

namespace kvscope {
namespace {

namespace codec = attention_codec;

float float_from_bits(uint32_t b) { float f; std::memcpy(&f, &b, 4); return f; }

// ---------------------------------------------------------------- codec

TEST(TraceCodec, ZeroAndOneAreExact) {
    EXPECT_EQ(codec::encode(0.0f), 0);
    EXPECT_EQ(codec::decode(0), 0.0f);
    EXPECT_EQ(codec::encode(1.0f), 255);
    EXPECT_EQ(codec::decode(255), 1.0f);
    EXPECT_EQ(codec::encode(1.5f), 255);
    EXPECT_EQ(codec::encode(-0.25f), 0);
    EXPECT_EQ(codec::encode(std::nanf("")), 0);
    EXPECT_EQ(codec::encode(std::ldexp(1.0f, -24)), 1);
    EXPECT_EQ(codec::encode(std::nextafter(std::ldexp(1.0f, -24), 0.0f)), 0);
}

TEST(TraceCodec, EveryCodeDecodesToItself) {
    for (int c = 0; c < 256; ++c) EXPECT_EQ(codec::encode(codec::decode(static_cast<uint8_t>(c))), c) << c;
    for (int c = 1; c < 256; ++c) EXPECT_LT(codec::decode(static_cast<uint8_t>(c - 1)), codec::decode(static_cast<uint8_t>(c)));
}

// Every float from 2^-24 to 1 (201 M bit patterns): monotone codes, relative
// error within the bound; below 2^-24, a sample of floats and the largest one encode to 0.
TEST(TraceCodec, ExhaustiveMonotoneAndErrorBound) {
    const uint32_t one = 0x3f800000u;
    const uint32_t min_coded = 0x33800000u;  // 2^-24
    uint8_t previous = 0;
    double worst = 0;
    for (uint32_t b = 0; b < min_coded; b += 4099) ASSERT_EQ(codec::encode(float_from_bits(b)), 0) << b;
    ASSERT_EQ(codec::encode(float_from_bits(min_coded - 1)), 0);
    for (uint32_t b = min_coded; b <= one; ++b) {
        const float p = float_from_bits(b);
        const uint8_t c = codec::encode(p);
        ASSERT_GE(c, previous) << "not monotone at " << p;
        previous = c;
        const double rel = std::abs(static_cast<double>(codec::decode(c)) / p - 1.0);
        if (rel > worst) worst = rel;
    }
    EXPECT_LE(worst, codec::kMaxRelativeError);
    EXPECT_GT(worst, 0.0332);  // the bound is tight
}

// Monotone codes are the nearest in log2 everywhere when they are at every
// boundary: the first float of each code and the float before it.
TEST(TraceCodec, NearestCodeInLogDomain) {
    for (int c = 2; c < 256; ++c) {
        const float first = codec::kThresholds[c];
        const float before = std::nextafter(first, 0.0f);
        auto ideal = [](float p) { return 1.0 + (std::log2(static_cast<double>(p)) + 24.0) * 254.0 / 24.0; };
        EXPECT_EQ(codec::encode(first), c);
        EXPECT_EQ(codec::encode(before), c - 1);
        EXPECT_GE(ideal(first), c - 0.5 - 1e-12) << c;
        EXPECT_LT(ideal(before), c - 0.5 + 1e-12) << c;
    }
}

// ---------------------------------------------------------------- run lists

TEST(TraceRuns, RoundTripAndCompactness) {
    std::vector<int32_t> v;  // [0..999] minus a hole, then a wrap-around like a ring buffer
    for (int32_t i = 0; i < 1000; ++i)
        if (i != 500) v.push_back(i);
    EXPECT_EQ(int_runs::encode(v).size(), 4u);
    EXPECT_EQ(int_runs::decode(int_runs::encode(v)), v);
    EXPECT_EQ(int_runs::length(int_runs::encode(v)), 999);
    std::vector<int32_t> ring = {7, 8, 9, 0, 1, 2, 5};
    EXPECT_EQ(int_runs::decode(int_runs::encode(ring)), ring);
    EXPECT_TRUE(int_runs::encode({}).empty());
    EXPECT_EQ(int_runs::check(int_runs::encode(v).data(), 4, 1000, true), "");
    EXPECT_NE(int_runs::check(int_runs::encode(v).data(), 4, 999, true), "");
    EXPECT_NE(int_runs::check(int_runs::encode(ring).data(), int_runs::encode(ring).size(), 100, true), "");
    const std::vector<int32_t> bad = {0, -3};
    EXPECT_NE(int_runs::check(bad.data(), bad.size(), 100, false), "");
    std::vector<int32_t> roles = {0, 0, 1, 1, 1, 0};
    EXPECT_EQ(int_runs::rle_decode(int_runs::rle_encode(roles)), roles);
}

}  // namespace
}  // namespace kvscope
