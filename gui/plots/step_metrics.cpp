#include "plots/step_metrics.h"

#include <limits>

namespace kvscope::gui {

double StepMetrics::running_top1() const {
    if (reference_steps == 0) return std::numeric_limits<double>::quiet_NaN();
    return static_cast<double>(top1_agreeing) / reference_steps;
}

double total_ms(const StepTimings& t) {
    return t.policy_ms + t.forward_ms + t.capture_ms + t.sample_ms + t.reference_ms;
}

StepMetrics step_metrics(const StepSnapshot& step, const StepMetrics* previous) {
    StepMetrics m;
    m.step = step.step;
    m.memory = step.memory;
    m.timings = step.timings;
    m.total_ms = total_ms(step.timings);
    if (previous != nullptr) {
        m.reference_steps = previous->reference_steps;
        m.top1_agreeing = previous->top1_agreeing;
    }
    if (step.reference) {
        const ReferenceMetrics& r = *step.reference;
        m.has_reference = true;
        m.kl = r.kl_full_policy;
        m.top1_agrees = r.top1_agrees;
        m.attention_cosine = r.attention_cosine;
        m.evicted_attention_mass = r.evicted_attention_mass;
        m.reference_steps += 1;
        m.top1_agreeing += r.top1_agrees ? 1 : 0;
    }
    return m;
}

}  // namespace kvscope::gui
