// The CUDA backend against the CPU backend on a whole real model, teacher-
// forced: the CPU's greedy tokens are fed to both for 64 steps under full,
// window, sinks+window, H2O, in-cache positions and a q8_0 cache. The CUDA
// top-1 equals the CPU's except where the CPU's own top-2 gap is a near tie
// (< 0.05); logits and attention rows agree within a normalised MSE; the
// KV bytes held are equal. Skipped, saying why, without a usable GPU or
// without the model ($KVSCOPE_MODEL: the default model, or on a GPU machine
// the cut-down one, tools/cut-model).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "gpu_test_support.h"
#include "kernels/cuda_backend.h"
#include "session/session.h"
#include "support/shared_model.h"

namespace kvscope {
namespace {

using namespace kvscope::test;

struct Case {
    const char* name;
    PolicyConfig policy;
};

std::vector<Case> cases() {
    std::vector<Case> c;
    c.push_back({"full", PolicyConfig{}});
    PolicyConfig window;
    window.kind = PolicyKind::Window;
    window.window = 16;
    c.push_back({"window(16)", window});
    PolicyConfig sinks;
    sinks.kind = PolicyKind::SinksWindow;
    sinks.window = 16;
    sinks.sinks = 4;
    c.push_back({"sinks(4)+window(16)", sinks});
    PolicyConfig h2o;
    h2o.kind = PolicyKind::H2O;
    h2o.h2o_heavy = 8;
    h2o.h2o_recent = 8;
    c.push_back({"h2o(8,8)", h2o});
    PolicyConfig in_cache = sinks;
    in_cache.positions = PositionMode::InCache;
    c.push_back({"sinks+window in-cache", in_cache});
    PolicyConfig q8 = window;
    q8.kv_type = KvValueType::Q8_0;
    c.push_back({"window(16) q8_0", q8});
    return c;
}

TEST(GpuParity, TeacherForcedTokensLogitsAttentionAndBytes) {
    REQUIRE_CUDA_DEVICE();
    REQUIRE_SHARED_MODEL(model);
    const std::vector<TokenId> prompt =
        model->tokenizer().encode("The history of the printing press begins in the fifteenth century, when",
                                  /*add_special=*/true, /*parse_special=*/false);
    constexpr int kSteps = 64;
    for (const Case& c : cases()) {
        SCOPED_TRACE(c.name);
        SessionOptions so;
        so.n_ctx = 256;
        so.policy = c.policy;
        so.capture_attention = true;
        Session cpu(*model, std::make_unique<CpuBackend>(*model, 2), so);
        Session gpu(*model, std::make_unique<CudaBackend>(*model, 0), so);
        cpu.prefill(prompt);
        gpu.prefill(prompt);
        int near_ties = 0, top1_same = 0;
        double logit_err = 0, logit_ref = 0, attn_err = 0, attn_ref = 0;
        for (int i = 0; i < kSteps; ++i) {
            const StepSnapshot a = cpu.step();  // the CPU chooses (greedy) ...
            const StepSnapshot b = gpu.step(a.token);  // ... and both are fed its token
            ASSERT_GE(a.top.size(), 2u);
            const bool near_tie = a.top[0].logit - a.top[1].logit < 0.05f;
            if (a.top[0].id == b.top[0].id) ++top1_same;
            else if (near_tie) ++near_ties;
            else ADD_FAILURE() << "step " << i << ": CPU top-1 " << a.top[0].id << " (gap " << a.top[0].logit - a.top[1].logit
                               << "), CUDA top-1 " << b.top[0].id;
            for (size_t v = 0; v < cpu.logits().size(); ++v) {
                const double d = static_cast<double>(cpu.logits()[v]) - gpu.logits()[v];
                logit_err += d * d;
                logit_ref += static_cast<double>(cpu.logits()[v]) * cpu.logits()[v];
            }
            ASSERT_EQ(a.attention.size(), b.attention.size());
            for (size_t r = 0; r < a.attention.size(); ++r)
                for (size_t l = 0; l < a.attention[r].layers.size(); ++l) {
                    const LayerAttention& x = a.attention[r].layers[l];
                    const LayerAttention& y = b.attention[r].layers[l];
                    ASSERT_EQ(x.key_positions, y.key_positions) << "step " << i << " layer " << l;
                    for (size_t k = 0; k < x.probs.size(); ++k) {
                        attn_err += (x.probs[k] - y.probs[k]) * (x.probs[k] - y.probs[k]);
                        attn_ref += x.probs[k] * x.probs[k];
                    }
                }
            EXPECT_EQ(a.memory.kv_bytes, b.memory.kv_bytes) << "step " << i;
            EXPECT_FALSE(b.memory.device_is_host);
        }
        std::printf("[ parity   ] %-22s top-1 %d/%d (%d near ties), logits NMSE %.2e, attention NMSE %.2e\n", c.name,
                    top1_same, kSteps, near_ties, logit_err / logit_ref, attn_err / attn_ref);
        EXPECT_LT(logit_err / logit_ref, 1e-3);
        EXPECT_LT(attn_err / attn_ref, 5e-4);
    }
}

// Out of memory is an error naming what did not fit and how much was free;
// the session (and the CPU) stay usable.
TEST(GpuParity, OutOfMemoryNamesWhatDidNotFit) {
    REQUIRE_CUDA_DEVICE();
    try {
        cuda::DeviceBuffer too_big(size_t{1} << 50, "a test buffer of 1 PiB");
        FAIL() << "a 1 PiB allocation succeeded";
    } catch (const Error& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("a test buffer of 1 PiB needs"), std::string::npos) << m;
        EXPECT_NE(m.find("free on the GPU"), std::string::npos) << m;
    }
    cuda::DeviceBuffer fine(1024, "a small buffer");  // the device still works
    EXPECT_NE(fine.get(), nullptr);
}

}  // namespace
}  // namespace kvscope
