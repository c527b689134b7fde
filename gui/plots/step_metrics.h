// The figures the step plots draw, taken from one StepSnapshot (its cache
// views, attention and per-layer reference vectors are left behind, so a
// long session costs a few dozen bytes per step here).
#pragma once

#include <cstdint>

#include "session/step_snapshot.h"

namespace kvscope::gui {

struct StepMetrics {
    int32_t step = 0;
    MemoryFigures memory;
    StepTimings timings;
    double total_ms = 0;  // sum of the five timings: the time this token cost

    bool has_reference = false;  // the step came with ReferenceMetrics
    double kl = 0;               // the fields below are meaningful only with has_reference
    bool top1_agrees = true;
    double attention_cosine = 1;
    double evicted_attention_mass = 0;

    // Running counts over the steps recorded so far, this one included.
    int32_t reference_steps = 0;  // steps that had a reference run
    int32_t top1_agreeing = 0;    // of those, steps whose top-1 token agreed with the full cache

    // top1_agreeing / reference_steps; NaN before any reference step.
    double running_top1() const;
};

double total_ms(const StepTimings& timings);

// `previous`: the metrics of the step recorded just before (nullptr for the
// first), carrying the running counts on.
StepMetrics step_metrics(const StepSnapshot& step, const StepMetrics* previous);

}  // namespace kvscope::gui
