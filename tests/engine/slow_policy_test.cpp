// Long runs on the real model (minutes, not seconds): memory stays flat under a
// window, and the StreamingLLM effect on real text. Suites named Slow* are
// left out of the sanitizer run by scripts/test (it says so when it runs).
#include <gtest/gtest.h>

#include "support/cpu_backends.h"

#include <fstream>
#include <sstream>

#include "backend/cpu/cpu_backend.h"
#include "eval/perplexity.h"
#include "session/session.h"
#include "support/shared_model.h"
#include "util/process_memory.h"

using namespace kvscope;

namespace {

constexpr const char* kLongText = "/usr/share/common-licenses/GPL-3";  // ~8,000 tokens, on every Debian system

std::vector<TokenId> long_text_tokens(const Model& m, size_t n) {
    std::ifstream in(kLongText);
    std::stringstream ss;
    ss << in.rdbuf();
    auto ids = m.tokenizer().encode(ss.str(), false, false);
    if (ids.size() > n) ids.resize(n);
    return ids;
}

}  // namespace

TEST(SlowPolicy, MemoryStaysFlatOverTenThousandTokensWithAWindow) {
    REQUIRE_SHARED_MODEL(model);
    SessionOptions so;
    so.policy.kind = PolicyKind::SinksWindow;
    so.policy.window = 64;
    so.policy.sinks = 4;
    so.n_ctx = 512;  // the text runs far past the context: the policy bounds the cache
    Session s(*model, std::make_unique<CpuBackend>(*model, 2), so);
    s.prefill(model->tokenizer().encode("Once upon a time", true, true));
    uint64_t kv_at_1000 = 0, rss_at_1000 = 0;
    for (int i = 0; i < 10000; ++i) {
        const StepSnapshot r = s.step();
        for (const auto& v : r.layers) ASSERT_LE(v.held_positions.size(), 64u);
        if (i == 1000) {
            kv_at_1000 = r.memory.kv_bytes;
            rss_at_1000 = current_rss_bytes();
        }
        if (i == 9999) {
            EXPECT_EQ(r.memory.kv_bytes, kv_at_1000);
            const uint64_t rss = current_rss_bytes();
            // A full cache would have grown by 9,000 × 23,040 bytes ≈ 198 MiB.
            EXPECT_LT(rss, rss_at_1000 + (4u << 20)) << "RSS grew from " << rss_at_1000 << " to " << rss;
            std::printf("[ memory ] RSS after 1,000 tokens %.1f MiB, after 10,000 %.1f MiB; KV %llu bytes\n",
                        rss_at_1000 / 1048576.0, rss / 1048576.0, static_cast<unsigned long long>(r.memory.kv_bytes));
        }
    }
}

TEST(SlowPolicy, StreamingLlmEffectOnRealText) {
    REQUIRE_SHARED_MODEL(model);
    const auto tokens = long_text_tokens(*model, 2048);
    ASSERT_GE(tokens.size(), 2000u) << kLongText << " is missing or short";
    auto ppl = [&](PolicyConfig p) {
        SessionOptions so;
        so.policy = p;
        return perplexity(*model, tokens, so, test::cpu_backends(2), nullptr).ppl;
    };
    PolicyConfig window;
    window.kind = PolicyKind::Window;
    window.window = 256;
    window.positions = PositionMode::InCache;
    PolicyConfig sinks = window;
    sinks.kind = PolicyKind::SinksWindow;
    sinks.sinks = 4;
    const double p_window = ppl(window), p_sinks = ppl(sinks);
    std::printf("[ streaming ] %zu tokens: window(256) in-cache %.3f, sinks(4)+window(256) in-cache %.3f (ratio %.2f)\n",
                tokens.size(), p_window, p_sinks, p_window / p_sinks);
    EXPECT_GE(p_window, 1.5 * p_sinks) << "window alone should be clearly worse than with 4 attention sinks";
}
