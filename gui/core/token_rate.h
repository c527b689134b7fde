#pragma once
// Tokens per second while a run goes on, from the steps and the time they
// took: the steps that arrived in the last few seconds, counted over the time
// between the first and the last of them. Snapshots reach the GUI in bursts
// (the worker runs up to three ahead), so a rate from the gap between two
// arrivals would say thousands of tokens a second; over a span of at least
// kMinSpanNs the bursts even out.
#include <cstdint>
#include <deque>

namespace kvscope::gui {

class TokenRate {
public:
    static constexpr int64_t kWindowNs = 3'000'000'000;  // steps older than this no longer count
    static constexpr int64_t kMinSpanNs = 250'000'000;   // less time than this: no rate yet

    void reset() { arrivals_.clear(); }
    void add(int64_t now_ns);  // one step arrived at now_ns (monotonic)
    // Steps per second over the window, or a negative number when too few
    // steps or too short a span were seen to say.
    double perSecond() const;

private:
    std::deque<int64_t> arrivals_;  // arrival times, oldest first
};

}  // namespace kvscope::gui
