// Cache policies on the real SmolLM2 model: what each policy must guarantee
// at every step (issue 3, "What it must show").
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "backend/cpu/cpu_backend.h"
#include "session/session.h"
#include "support/shared_model.h"
#include "util/error.h"

using namespace kvscope;

namespace {

std::unique_ptr<Session> make(const Model& m, SessionOptions so) {
    return std::make_unique<Session>(m, std::make_unique<CpuBackend>(m, 2), so);
}

std::vector<TokenId> prompt_of(const Model& m) {
    return m.tokenizer().encode("The history of the printing press begins in the fifteenth century, when", true, true);
}

PolicyConfig window(int32_t w, int32_t sinks = 0, PositionMode mode = PositionMode::Original) {
    PolicyConfig p;
    p.kind = sinks > 0 ? PolicyKind::SinksWindow : PolicyKind::Window;
    p.window = w;
    p.sinks = sinks;
    p.positions = mode;
    return p;
}

// The latest query's attention only lands on positions the layer holds after
// the step (earlier prompt rows saw the cache as it was when they arrived).
void expect_attention_on_held_only(const StepSnapshot& s) {
    ASSERT_FALSE(s.attention.empty());
    {
        const QueryAttention& q = s.attention.back();
        for (size_t l = 0; l < q.layers.size(); ++l) {
            const auto& held = s.layers[l].held_positions;
            for (int32_t k : q.layers[l].key_positions) {
                EXPECT_TRUE(std::binary_search(held.begin(), held.end(), k))
                    << "step " << s.step << " layer " << l << " attends to position " << k << ", which is not held";
                EXPECT_EQ(std::count(s.layers[l].evicted.begin(), s.layers[l].evicted.end(), k), 0);
            }
        }
    }
}

}  // namespace

TEST(SessionPolicy, WindowAsLongAsTheTextEqualsFull) {
    REQUIRE_SHARED_MODEL(model);
    const auto prompt = prompt_of(*model);
    SessionOptions full;
    full.prefill_batch = 1;  // the same one-token-at-a-time order as a windowed session
    SessionOptions win = full;
    win.policy = window(static_cast<int32_t>(prompt.size()) + 20);
    auto a = make(*model, full), b = make(*model, win);
    a->prefill(prompt);
    b->prefill(prompt);
    for (int i = 0; i < 16; ++i) {
        const auto ra = a->step(), rb = b->step();
        ASSERT_EQ(ra.token, rb.token) << "step " << i;
        ASSERT_EQ(a->logits(), b->logits()) << "step " << i;
    }
}

TEST(SessionPolicy, KvBytesFollowTheFormulaAndTheWindowBoundsThem) {
    REQUIRE_SHARED_MODEL(model);
    const ModelConfig& c = model->config();
    for (KvValueType type : {KvValueType::F32, KvValueType::F16, KvValueType::Q8_0}) {
        SessionOptions so;
        so.policy = window(12);
        so.policy.kv_type = type;
        auto s = make(*model, so);
        s->prefill(prompt_of(*model));
        const double bytes_per_value = type == KvValueType::F32 ? 4 : type == KvValueType::F16 ? 2 : 34.0 / 32.0;
        for (int i = 0; i < 20; ++i) {
            const StepSnapshot r = s->step();
            uint64_t held = 0;
            for (const auto& v : r.layers) {
                EXPECT_LE(v.held_positions.size(), 12u);
                held += v.held_positions.size();
            }
            // 2 × layers × KV heads × head_dim × held × bytes per value (held summed over layers).
            EXPECT_EQ(static_cast<double>(r.memory.kv_bytes), 2.0 * c.n_head_kv * c.head_dim * static_cast<double>(held) * bytes_per_value);
            EXPECT_EQ(r.memory.kv_full_bytes, static_cast<uint64_t>(c.n_layer) * static_cast<uint64_t>(r.position) *
                                                  s->cache().bytes_per_slot());
        }
    }
}

TEST(SessionPolicy, SinksAreNeverEvictedAndNoAttentionLandsOnEvictedPositions) {
    REQUIRE_SHARED_MODEL(model);
    for (PositionMode mode : {PositionMode::Original, PositionMode::InCache}) {
        SessionOptions so;
        so.policy = window(10, 3, mode);
        so.capture_attention = true;
        auto s = make(*model, so);
        s->prefill(prompt_of(*model));
        expect_attention_on_held_only(s->prefill_snapshot());
        std::set<int32_t> evicted_ever;
        for (int i = 0; i < 24; ++i) {
            const StepSnapshot r = s->step();
            // Step 0 samples from the prefill's logits and feeds nothing; each
            // later step feeds one token and carries its attention.
            ASSERT_EQ(r.attention.size(), i == 0 ? 0u : 1u);
            if (i > 0) expect_attention_on_held_only(r);
            for (const auto& v : r.layers) {
                for (int32_t sink = 0; sink < 3; ++sink) EXPECT_TRUE(std::binary_search(v.held_positions.begin(), v.held_positions.end(), sink));
                EXPECT_EQ(v.held_positions.size(), 10u);
                EXPECT_EQ(v.held_roles[0], SlotRole::Sink);
                evicted_ever.insert(v.evicted.begin(), v.evicted.end());
            }
            for (int32_t sink = 0; sink < 3; ++sink) EXPECT_EQ(evicted_ever.count(sink), 0u);
        }
        EXPECT_FALSE(evicted_ever.empty());
    }
}

TEST(SessionPolicy, PinsStayUntilUnpinned) {
    REQUIRE_SHARED_MODEL(model);
    SessionOptions so;
    so.policy.kind = PolicyKind::Global;
    so.policy.window = 6;
    so.policy.pins = {2, 7};
    auto s = make(*model, so);
    s->prefill(prompt_of(*model));
    auto holds = [](const StepSnapshot& r, int32_t p) {
        return std::all_of(r.layers.begin(), r.layers.end(), [&](const LayerCacheView& v) {
            return std::binary_search(v.held_positions.begin(), v.held_positions.end(), p);
        });
    };
    StepSnapshot r;
    for (int i = 0; i < 12; ++i) {
        r = s->step();
        EXPECT_TRUE(holds(r, 2));
        EXPECT_TRUE(holds(r, 7));
        EXPECT_FALSE(holds(r, 3));
    }
    PolicyConfig unpinned = so.policy;
    unpinned.pins.erase(2);
    s->set_policy(unpinned);
    r = s->step();  // the next step applies it
    EXPECT_FALSE(holds(r, 2));
    EXPECT_TRUE(holds(r, 7));
    PolicyConfig beyond = unpinned;
    beyond.pins.insert(100000);
    EXPECT_THROW(s->set_policy(beyond), InvalidSetting);  // beyond the text
}

TEST(SessionPolicy, H2OHoldsExactlyHPlusR) {
    REQUIRE_SHARED_MODEL(model);
    SessionOptions so;
    so.policy.kind = PolicyKind::H2O;
    so.policy.h2o_heavy = 5;
    so.policy.h2o_recent = 4;
    auto s = make(*model, so);
    const auto prompt = prompt_of(*model);
    s->prefill(prompt);
    for (int i = 0; i < 16; ++i) {
        const StepSnapshot r = s->step();
        for (const auto& v : r.layers) {
            ASSERT_EQ(v.held_positions.size(), 9u) << "step " << i;
            // The 4 most recent positions are held (the one fed last among them).
            for (int32_t p = r.position - 4; p < r.position; ++p)
                EXPECT_TRUE(std::binary_search(v.held_positions.begin(), v.held_positions.end(), p));
            EXPECT_EQ(std::count(v.held_roles.begin(), v.held_roles.end(), SlotRole::HeavyHitter), 5);
        }
    }
}

TEST(SessionPolicy, ChangesApplyFromTheNextStep) {
    REQUIRE_SHARED_MODEL(model);
    SessionOptions so;
    so.policy = window(16);
    auto s = make(*model, so);
    s->prefill(prompt_of(*model));
    for (int i = 0; i < 8; ++i) s->step();
    s->set_policy(window(5));
    StepSnapshot r = s->step();  // the smaller window evicts at once
    for (const auto& v : r.layers) EXPECT_EQ(v.held_positions.size(), 5u);
    s->set_policy(window(9));  // a larger window fills again as tokens arrive
    r = s->step();
    for (const auto& v : r.layers) EXPECT_EQ(v.held_positions.size(), 6u);
    r = s->step();
    for (const auto& v : r.layers) EXPECT_EQ(v.held_positions.size(), 7u);
    EXPECT_THROW(s->set_policy(window(0)), InvalidSetting);
    EXPECT_EQ(s->policy().window, 9);  // a refused policy leaves the old one in force
}

TEST(SessionPolicy, ReferenceRunMeasuresWhatThePolicyLoses) {
    REQUIRE_SHARED_MODEL(model);
    SessionOptions full;
    full.reference_run = true;
    full.prefill_batch = 1;
    auto f = make(*model, full);
    f->prefill(prompt_of(*model));
    for (int i = 0; i < 4; ++i) {
        const StepSnapshot r = f->step();
        ASSERT_TRUE(r.reference.has_value());
        EXPECT_NEAR(r.reference->kl_full_policy, 0.0, 1e-9);
        EXPECT_TRUE(r.reference->top1_agrees);
        EXPECT_NEAR(r.reference->evicted_attention_mass, 0.0, 1e-9);
        EXPECT_NEAR(r.reference->attention_cosine, 1.0, 1e-6);
    }
    SessionOptions win;
    win.reference_run = true;
    win.policy = window(6);
    auto w = make(*model, win);
    w->prefill(prompt_of(*model));
    const StepSnapshot r = w->step();
    ASSERT_TRUE(r.reference.has_value());
    EXPECT_GT(r.reference->kl_full_policy, 0.0);
    EXPECT_GT(r.reference->evicted_attention_mass, 0.0);
    EXPECT_LT(r.reference->evicted_attention_mass, 1.0);
    EXPECT_LT(r.reference->attention_cosine, 1.0);
    EXPECT_EQ(r.reference->evicted_mass_per_layer.size(), static_cast<size_t>(model->config().n_layer));
}

TEST(SessionPolicy, SnapshotDescribesSlotsPagesAndGroups) {
    REQUIRE_SHARED_MODEL(model);
    SessionOptions so;
    so.policy = window(20);
    auto s = make(*model, so);
    s->prefill(prompt_of(*model));
    StepSnapshot r;
    for (int i = 0; i < 30; ++i) r = s->step();
    const auto& v = r.layers[0];
    ASSERT_EQ(v.held_slots.size(), 20u);
    // Rolling buffer: position p sits in slot p mod W.
    for (size_t i = 0; i < v.held_positions.size(); ++i) EXPECT_EQ(v.held_slots[i], v.held_positions[i] % 20);
    EXPECT_EQ(v.next_slot, (r.position) % 20);  // the slot the next position will overwrite
    EXPECT_EQ(v.block_table.size(), 2u);         // 20 held positions in blocks of 16
    ASSERT_EQ(r.gqa_groups.size(), 3u);
    EXPECT_EQ(r.gqa_groups[1], (std::vector<int32_t>{3, 4, 5}));
    EXPECT_EQ(r.policy, "window(20) f16 original");
}
