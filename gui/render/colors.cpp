#include "render/colors.h"

#include <array>

#include <qcustomplot.h>

#include <algorithm>
#include <iterator>

#include "render/plots.h"

namespace kvscope::render {

namespace {
// matplotlib's viridis at t = 0, 0.1, ..., 1 (QCustomPlot 2.1 has no preset).
constexpr Rgb kViridisStops[] = {
    {0x44, 0x01, 0x54}, {0x48, 0x24, 0x75}, {0x41, 0x44, 0x87}, {0x35, 0x5f, 0x8d},
    {0x2a, 0x78, 0x8e}, {0x21, 0x91, 0x8c}, {0x22, 0xa8, 0x84}, {0x44, 0xbf, 0x70},
    {0x7a, 0xd1, 0x51}, {0xbd, 0xdf, 0x26}, {0xfd, 0xe7, 0x25},
};
}  // namespace

QCPColorGradient viridis_gradient() {
    QCPColorGradient gradient;
    QMap<double, QColor> stops;
    constexpr int n = static_cast<int>(std::size(kViridisStops));
    for (int i = 0; i < n; ++i)
        stops.insert(static_cast<double>(i) / (n - 1), QColor(kViridisStops[i].r, kViridisStops[i].g, kViridisStops[i].b));
    gradient.setColorStops(stops);
    gradient.setColorInterpolation(QCPColorGradient::ciRGB);
    gradient.setLevelCount(350);
    return gradient;
}

Rgb viridis(double t) {
    QCPColorGradient gradient = viridis_gradient();
    const QRgb c = gradient.color(std::clamp(t, 0.0, 1.0), QCPRange(0, 1));
    return Rgb{static_cast<uint8_t>(qRed(c)), static_cast<uint8_t>(qGreen(c)), static_cast<uint8_t>(qBlue(c))};
}

const Rgb* viridis_table() {
    static const auto table = [] {
        std::array<Rgb, 256> t{};
        for (size_t i = 0; i < t.size(); ++i) t[i] = viridis(static_cast<double>(i) / 255.0);
        return t;
    }();
    return table.data();
}

}  // namespace kvscope::render
