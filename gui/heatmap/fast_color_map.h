#pragma once
// A QCPColorMap that colours big maps fast. QCustomPlot's own colouring costs
// ~10 ns per cell (a log per cell on log scales, alpha blending maths), ~6 ms
// for a plot-sized grid, a third of the 16 ms redraw budget; this one looks
// colours up in a 1,024-entry table of the same gradient (~1 ns per cell).
// Small maps (which QCustomPlot oversamples) keep the original path.
#include <qcustomplot.h>

namespace kvscope::gui {

// The colour map's data with direct access to its buffers: filling ~1M cells
// through setCell()'s checks costs more than the rest of the redraw.
class DirectColorMapData : public QCPColorMapData {
public:
    using QCPColorMapData::QCPColorMapData;
    double* values() { return mData; }  // [valueSize][keySize]
    unsigned char* alpha() {            // [valueSize][keySize], created opaque on first use
        if (mAlpha == nullptr) createAlpha(true);
        return mAlpha;
    }
    const double* values() const { return mData; }
    const unsigned char* alpha_or_null() const { return mAlpha; }
    void dropAlpha() { clearAlpha(); }
    void setModified(bool modified) { mDataModified = modified; }
};

class FastColorMap : public QCPColorMap {
public:
    // Takes a DirectColorMapData of 2 x 2 cells.
    FastColorMap(QCPAxis* key_axis, QCPAxis* value_axis);
    DirectColorMapData* directData() const { return static_cast<DirectColorMapData*>(data()); }

protected:
    void updateMapImage() override;
};

}  // namespace kvscope::gui
