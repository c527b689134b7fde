#include "heatmap/fast_color_map.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace kvscope::gui {

namespace {
constexpr int kLevels = 1024;
// Below this many cells along an axis QCustomPlot oversamples the image (so
// paint engines do not smooth it): leave those small maps to it.
constexpr int kMinFastCells = 200;
}  // namespace

FastColorMap::FastColorMap(QCPAxis* key_axis, QCPAxis* value_axis) : QCPColorMap(key_axis, value_axis) {
    setData(new DirectColorMapData(2, 2, QCPRange(0, 1), QCPRange(0, 1)));
}

void FastColorMap::updateMapImage() {
    auto* d = directData();
    const int keys = d->keySize(), values = d->valueSize();
    if (keyAxis() == nullptr || keyAxis()->orientation() != Qt::Horizontal || d->isEmpty() || keys < kMinFastCells ||
        values < kMinFastCells) {
        QCPColorMap::updateMapImage();
        return;
    }
    // The gradient at kLevels evenly spaced positions of the data range.
    std::array<double, kLevels> ramp;  // [kLevels]
    for (int i = 0; i < kLevels; ++i) ramp[static_cast<std::size_t>(i)] = i;
    std::array<QRgb, kLevels> lut;     // [kLevels]
    mGradient.colorize(ramp.data(), QCPRange(0, kLevels - 1), lut.data(), kLevels);
    const QRgb nan_rgb = mGradient.nanHandling() == QCPColorGradient::nhNanColor ? mGradient.nanColor().rgba() : 0u;
    const QRgb nan_color = qPremultiply(nan_rgb);

    const bool log = mDataScaleType == QCPAxis::stLogarithmic;
    const double lo = mDataRange.lower, hi = mDataRange.upper;
    const double scale = log ? (kLevels - 1) / std::log(hi / lo) : (kLevels - 1) / (hi - lo);
    if (mMapImage.width() != keys || mMapImage.height() != values || mMapImage.format() != QImage::Format_ARGB32_Premultiplied)
        mMapImage = QImage(QSize(keys, values), QImage::Format_ARGB32_Premultiplied);
    mUndersampledMapImage = QImage();
    const double* raw = d->values();
    const unsigned char* alpha = d->alpha_or_null();
    for (int line = 0; line < values; ++line) {
        // Scanlines count from the top, value indices from the bottom (as in QCPColorMap).
        auto* pixels = reinterpret_cast<QRgb*>(mMapImage.scanLine(values - 1 - line));
        const double* row = raw + static_cast<std::size_t>(line) * static_cast<std::size_t>(keys);
        const unsigned char* row_alpha = alpha == nullptr ? nullptr : alpha + static_cast<std::size_t>(line) * static_cast<std::size_t>(keys);
        for (int x = 0; x < keys; ++x) {
            const unsigned char a = row_alpha == nullptr ? 255 : row_alpha[x];
            if (a == 0) {
                pixels[x] = 0;
                continue;
            }
            const double v = row[x];
            QRgb c;
            if (std::isnan(v)) {
                c = nan_color;
            } else {
                const double t = log ? (v > 0 ? std::log(v / lo) * scale : 0.0) : (v - lo) * scale;
                c = lut[static_cast<std::size_t>(std::clamp(static_cast<int>(t), 0, kLevels - 1))];
            }
            pixels[x] = a == 255 ? c : qPremultiply(qRgba(qRed(c), qGreen(c), qBlue(c), a));
        }
    }
    d->setModified(false);
    mMapImageInvalidated = false;
}

}  // namespace kvscope::gui
