#include "core/token_rate.h"

namespace kvscope::gui {

void TokenRate::add(int64_t now_ns) {
    arrivals_.push_back(now_ns);
    while (arrivals_.size() > 2 && now_ns - arrivals_.front() > kWindowNs) arrivals_.pop_front();
}

double TokenRate::perSecond() const {
    if (arrivals_.size() < 3) return -1.0;
    const int64_t span = arrivals_.back() - arrivals_.front();
    if (span < kMinSpanNs) return -1.0;
    // n arrivals bound n - 1 intervals.
    return static_cast<double>(arrivals_.size() - 1) * 1e9 / static_cast<double>(span);
}

}  // namespace kvscope::gui
