// TOVA (issue 13): the rule on made-up scores, then on the real SmolLM2 model
// against a brute-force reading of the attention the session captured.
#include <gtest/gtest.h>

#include <algorithm>
#include <utility>

#include "backend/cpu/cpu_backend.h"
#include "kv/kv_policy.h"
#include "session/session.h"
#include "support/shared_model.h"
#include "util/error.h"

using namespace kvscope;

namespace {

PolicyConfig tova(int32_t budget) {
    PolicyConfig p;
    p.kind = PolicyKind::Tova;
    p.budget = budget;
    return p;
}

std::unique_ptr<Session> make(const Model& m, SessionOptions so) {
    return std::make_unique<Session>(m, std::make_unique<CpuBackend>(m, 2), so);
}

std::vector<TokenId> prompt_of(const Model& m) {
    return m.tokenizer().encode("The history of the printing press begins in the fifteenth century, when", true, true);
}

// TOVA's rule written out directly: score each held position by the latest
// query's attention averaged over heads (0 where that query did not see it),
// order by (score, position) and drop the first held − (B − 1).
std::vector<int32_t> brute_force_evictions(const LayerAttention& latest, const std::vector<int32_t>& held, int32_t budget,
                                           int32_t n_head) {
    std::vector<std::pair<double, int32_t>> scored;
    const size_t n_keys = latest.key_positions.size();
    for (int32_t p : held) {
        double sum = 0;
        for (size_t j = 0; j < n_keys; ++j)
            if (latest.key_positions[j] == p)
                for (int32_t h = 0; h < n_head; ++h) sum += latest.probs[static_cast<size_t>(h) * n_keys + j];
        scored.emplace_back(sum / n_head, p);
    }
    std::sort(scored.begin(), scored.end());
    std::vector<int32_t> out;
    const int64_t excess = static_cast<int64_t>(held.size()) - (budget - 1);
    for (int64_t k = 0; k < excess; ++k) out.push_back(scored[static_cast<size_t>(k)].second);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST(Tova, DropsTheLeastAttendedOlderFirstOnTies) {
    const PolicyConfig p = tova(4);
    const std::vector<int32_t> held = {0, 1, 2, 3, 4, 5};
    // Room for position 6 within B = 4: three of the six go, the lowest scores.
    EXPECT_EQ(positions_to_evict(p, 0, held, {0.3, 0.1, 0.5, 0.1, 0.9, 0.05}, 6), (std::vector<int32_t>{1, 3, 5}));
    // A tie at the boundary (0.3 at positions 0 and 5, one of them must go): the older goes.
    EXPECT_EQ(positions_to_evict(p, 0, held, {0.3, 0.2, 0.5, 0.2, 0.9, 0.3}, 6), (std::vector<int32_t>{0, 1, 3}));
    // Under budget nothing goes; the newest is not protected.
    EXPECT_TRUE(positions_to_evict(p, 0, {0, 1, 2}, {0.1, 0.2, 0.3}, 3).empty());
    EXPECT_EQ(positions_to_evict(p, 0, {0, 1, 2, 3}, {0.4, 0.3, 0.2, 0.1}, 4), (std::vector<int32_t>{3}));
    // Every position is kept by its score except the one just stored.
    const auto roles = position_roles(p, 0, {0, 2, 6}, {0, 0, 0});
    EXPECT_EQ(roles, (std::vector<SlotRole>{SlotRole::HeavyHitter, SlotRole::HeavyHitter, SlotRole::Window}));
    EXPECT_EQ(p.layer_capacity(0, 100), 4);
    EXPECT_EQ(p.describe(), "tova(4) f16 original");
}

TEST(Tova, ABudgetOutsideTheContextIsRefusedWithItsRange) {
    for (int32_t b : {0, -3, 101}) {
        try {
            tova(b).validate(100, 4, 10);
            FAIL() << "budget " << b << " was accepted";
        } catch (const InvalidSetting& e) {
            EXPECT_EQ(std::string(e.what()),
                      "budget B must be between 1 and 100 (the context length is 100), got " + std::to_string(b));
        }
    }
    EXPECT_NO_THROW(tova(100).validate(100, 4, 10));
}

TEST(Tova, APercentBudgetFollowsThePositionsSeen) {
    PolicyConfig p = tova(0);
    p.budget_percent = 25;
    EXPECT_EQ(p.budget_at(0), 1);   // 1 seen: ⌈0.25⌉
    EXPECT_EQ(p.budget_at(3), 1);   // 4 seen
    EXPECT_EQ(p.budget_at(4), 2);   // 5 seen: ⌈1.25⌉
    EXPECT_EQ(p.budget_at(99), 25);
    EXPECT_EQ(p.layer_capacity(0, 1000), 250);
    EXPECT_EQ(p.describe(), "tova(25%) f16 original");
    EXPECT_NO_THROW(p.validate(1000, 4, 10));
    // At position 8 (9 seen) B = 3: of the 8 held, 6 go (the lowest scores).
    EXPECT_EQ(positions_to_evict(p, 0, {0, 1, 2, 3, 4, 5, 6, 7}, {8, 1, 7, 2, 6, 3, 5, 4}, 8),
              (std::vector<int32_t>{1, 3, 4, 5, 6, 7}));
    PolicyConfig h;
    h.kind = PolicyKind::H2O;
    h.budget_percent = 20;
    EXPECT_EQ(h.h2o_at(49), (std::pair<int32_t, int32_t>{5, 5}));  // 50 seen: B = 10, halved
    EXPECT_EQ(h.h2o_at(50), (std::pair<int32_t, int32_t>{5, 6}));  // 51 seen: B = ⌈10.2⌉ = 11
    EXPECT_EQ(h.describe(), "h2o(20%) f16 original");
    PolicyConfig w;
    w.kind = PolicyKind::Window;
    w.window = 8;
    w.budget_percent = 20;
    EXPECT_THROW(w.validate(100, 4, 10), InvalidSetting);  // a percent budget is for h2o and the scoring methods
    p.budget_percent = 101;
    EXPECT_THROW(p.validate(1000, 4, 10), InvalidSetting);
}

TEST(Tova, APercentBudgetHoldsThatShareOfTheTextInEveryLayer) {
    REQUIRE_SHARED_MODEL(model);
    SessionOptions so;
    so.policy = tova(0);
    so.policy.budget_percent = 30;
    auto s = make(*model, so);
    s->prefill(prompt_of(*model));
    for (int i = 0; i < 10; ++i) {
        const StepSnapshot now = s->step();
        const int32_t seen = now.position;  // positions fed so far
        for (const auto& v : now.layers)
            ASSERT_EQ(static_cast<int32_t>(v.held_positions.size()), (30 * seen + 99) / 100) << "step " << i;
    }
}

TEST(Tova, EvictsWhatTheLatestQueryAttendedToLeast) {
    REQUIRE_SHARED_MODEL(model);
    const int32_t budget = 10, n_head = model->config().n_head;
    SessionOptions so;
    so.policy = tova(budget);
    so.capture_attention = true;
    auto s = make(*model, so);
    const auto prompt = prompt_of(*model);
    s->prefill(prompt);
    StepSnapshot previous = s->prefill_snapshot();
    int32_t steps_with_old_kept = 0;
    for (int i = 0; i < 12; ++i) {
        const StepSnapshot now = s->step();
        if (now.attention.empty()) {
            // Step 0 only samples: the prompt's last token was fed by prefill, so
            // nothing entered the cache and nothing left it.
            ASSERT_EQ(i, 0);
            for (const auto& v : now.layers) EXPECT_TRUE(v.evicted.empty());
            continue;
        }
        ASSERT_FALSE(previous.attention.empty());
        for (size_t l = 0; l < now.layers.size(); ++l) {
            const std::vector<int32_t>& before = previous.layers[l].held_positions;
            const auto expected = brute_force_evictions(previous.attention.back().layers[l], before, budget, n_head);
            std::vector<int32_t> evicted = now.layers[l].evicted;
            std::sort(evicted.begin(), evicted.end());
            ASSERT_EQ(evicted, expected) << "step " << i << " layer " << l;
            ASSERT_EQ(now.layers[l].held_positions.size(), static_cast<size_t>(budget)) << "step " << i << " layer " << l;
            // Not a window in disguise: something older than the last B stays.
            // (now.position is the token not fed yet: a window of B would start at now.position − B.)
            if (now.layers[l].held_positions.front() < now.position - budget) ++steps_with_old_kept;
        }
        // Memory: B positions of K and V in every layer.
        EXPECT_EQ(now.memory.kv_bytes, static_cast<uint64_t>(model->config().n_layer) * budget * s->cache().bytes_per_slot());
        previous = now;
    }
    EXPECT_GT(steps_with_old_kept, 0);
}

TEST(Tova, ABudgetAsLongAsTheTextEqualsFull) {
    REQUIRE_SHARED_MODEL(model);
    const auto prompt = prompt_of(*model);
    SessionOptions full;
    full.prefill_batch = 1;  // the same one-token-at-a-time order as a tova session
    SessionOptions t = full;
    t.policy = tova(static_cast<int32_t>(prompt.size()) + 20);
    auto a = make(*model, full), b = make(*model, t);
    a->prefill(prompt);
    b->prefill(prompt);
    for (int i = 0; i < 16; ++i) {
        const auto ra = a->step(), rb = b->step();
        ASSERT_EQ(ra.token, rb.token) << "step " << i;
        ASSERT_EQ(a->logits(), b->logits()) << "step " << i;
    }
}
