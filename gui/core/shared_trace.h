#pragma once
// The run's trace, written by the decoding worker (encoding happens off the GUI
// thread) and read by the GUI thread when it scrubs the timeline or rebuilds a
// heatmap. Every access holds the mutex; reads are short (one entry or one layer).
#include <QMetaType>

#include <memory>
#include <mutex>

#include "session/trace.h"

namespace kvscope::gui {

struct SharedTrace {
    explicit SharedTrace(Trace t) : trace(std::move(t)) {}
    mutable std::mutex mutex;
    Trace trace;  // guarded by mutex
};

using SharedTracePtr = std::shared_ptr<SharedTrace>;

}  // namespace kvscope::gui

Q_DECLARE_METATYPE(kvscope::gui::SharedTracePtr)
