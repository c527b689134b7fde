#include "kv/key_scores.h"

#include <cmath>
#include <vector>

namespace kvscope {

void cosines_to_mean_key(const float* keys, size_t n, int32_t heads, int32_t head_dim, float* out) {
    const auto hd = static_cast<size_t>(head_dim), nh = static_cast<size_t>(heads);
    std::vector<double> norm(n * nh);    // [n][heads] L2 norm of each key
    std::vector<double> anchor(nh * hd, 0.0);  // [heads][head_dim] sum of the normalised keys
    for (size_t i = 0; i < n; ++i)
        for (size_t h = 0; h < nh; ++h) {
            const float* k = keys + (i * nh + h) * hd;
            double sum = 0;
            for (size_t d = 0; d < hd; ++d) sum += static_cast<double>(k[d]) * k[d];
            norm[i * nh + h] = std::sqrt(sum);
            if (norm[i * nh + h] == 0) continue;
            for (size_t d = 0; d < hd; ++d) anchor[h * hd + d] += k[d] / norm[i * nh + h];
        }
    // The mean's direction is the sum's: dividing by n changes no cosine.
    std::vector<double> anchor_norm(nh, 0.0);
    for (size_t h = 0; h < nh; ++h) {
        double sum = 0;
        for (size_t d = 0; d < hd; ++d) sum += anchor[h * hd + d] * anchor[h * hd + d];
        anchor_norm[h] = std::sqrt(sum);
    }
    for (size_t i = 0; i < n; ++i)
        for (size_t h = 0; h < nh; ++h) {
            const float* k = keys + (i * nh + h) * hd;
            const double denominator = norm[i * nh + h] * anchor_norm[h];
            double dot = 0;
            for (size_t d = 0; d < hd; ++d) dot += static_cast<double>(k[d]) * anchor[h * hd + d];
            out[i * nh + h] = denominator == 0 ? 0.0f : static_cast<float>(dot / denominator);
        }
}

}  // namespace kvscope
