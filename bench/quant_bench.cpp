// Single-threaded matvec throughput of the quantised dot kernels, in GB/s of
// weight bytes read, for the shapes of SmolLM2-135M: a Q4_1 FFN matrix
// (1536 x 576) and the Q8_0 output head (49152 x 576).
//   kvscope-bench-quant [seconds per case]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "quant/quant.h"
#include "backend/cpu/vec_dot.h"
#include "util/fp16.h"

namespace {

using namespace kvscope;
using Clock = std::chrono::steady_clock;

// Random blocks with every 16-bit scale field set to a small f16 value.
std::vector<uint8_t> random_matrix(TensorType t, int64_t rows, int64_t cols) {
    const size_t rb = row_bytes(t, cols), bb = tensor_type_info(t).block_bytes;
    std::vector<uint8_t> m(rb * static_cast<size_t>(rows));
    std::mt19937 rng(1);
    for (auto& b : m) b = static_cast<uint8_t>(rng());
    const uint16_t h = f32_to_fp16(0.01f);
    for (size_t at = 0; at < m.size(); at += bb) {
        m[at] = static_cast<uint8_t>(h & 0xFF);
        m[at + 1] = static_cast<uint8_t>(h >> 8);
        if (t == TensorType::Q4_1) { m[at + 2] = m[at]; m[at + 3] = m[at + 1]; }
    }
    return m;
}

void bench(const char* label, TensorType t, int64_t rows, int64_t cols, double seconds, bool per_row) {
    const auto m = random_matrix(t, rows, cols);
    std::vector<float> x(static_cast<size_t>(cols)), out(static_cast<size_t>(rows));
    std::mt19937 rng(2);
    std::normal_distribution<float> nd;
    for (auto& v : x) v = nd(rng);
    QuantizedVector q;
    quantize_for_dot(t, x.data(), cols, q);
    const size_t stride = row_bytes(t, cols);

    auto run = [&] {
        if (per_row) {
            for (int64_t r = 0; r < rows; ++r) out[r] = vec_dot(t, m.data() + r * stride, q);
        } else {
            vec_dot_rows(t, m.data(), stride, rows, q, out.data());
        }
    };
    run();  // warm caches
    int64_t iters = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    do {
        run();
        ++iters;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < seconds);
    const double per = elapsed / static_cast<double>(iters);
    std::printf("%-34s %6lld x %4lld  %8.1f us  %6.2f GB/s  (checksum %g)\n", label, static_cast<long long>(rows),
                static_cast<long long>(cols), per * 1e6, static_cast<double>(m.size()) / per / 1e9, static_cast<double>(out[0]));

    // Activation preparation, once per matvec.
    const auto qs = Clock::now();
    for (int i = 0; i < 10000; ++i) quantize_for_dot(t, x.data(), cols, q);
    std::printf("%-34s quantize_for_dot %.3f us\n", "", std::chrono::duration<double>(Clock::now() - qs).count() / 10000 * 1e6);
}

}  // namespace

int main(int argc, char** argv) {
    const double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
    bench("Q4_1 x Q8_1 vec_dot_rows", TensorType::Q4_1, 1536, 576, seconds, false);
    bench("Q4_1 x Q8_1 vec_dot per row", TensorType::Q4_1, 1536, 576, seconds, true);
    bench("Q8_0 x Q8_0 vec_dot_rows", TensorType::Q8_0, 49152, 576, seconds, false);
    bench("Q8_0 x Q8_0 vec_dot per row", TensorType::Q8_0, 49152, 576, seconds, true);
    bench("Q6_K x Q8_K vec_dot_rows", TensorType::Q6_K, 49152, 768, seconds, false);
    bench("Q4_K x Q8_K vec_dot_rows", TensorType::Q4_K, 1536, 768, seconds, false);
    return 0;
}
