// Cache policies without a model: eviction decisions, roles, validation messages.
#include <gtest/gtest.h>

#include <climits>

#include "kv/kv_policy.h"
#include "util/error.h"

using namespace kvscope;

namespace {

std::vector<int32_t> range(int32_t a, int32_t b) {
    std::vector<int32_t> v;
    for (int32_t i = a; i < b; ++i) v.push_back(i);
    return v;
}

std::string refusal(const PolicyConfig& p, int32_t n_ctx = 100, int32_t n_layer = 4, int32_t text = 50) {
    try {
        p.validate(n_ctx, n_layer, text);
    } catch (const InvalidSetting& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(KvPolicy, WindowKeepsTheLastW) {
    PolicyConfig p;
    p.kind = PolicyKind::Window;
    p.window = 4;
    EXPECT_TRUE(positions_to_evict(p, 0, range(0, 3), std::vector<double>(3), 3).empty());
    EXPECT_EQ(positions_to_evict(p, 0, range(0, 4), std::vector<double>(4), 4), std::vector<int32_t>{0});
    // A smaller window evicts everything outside it at once.
    p.window = 2;
    EXPECT_EQ(positions_to_evict(p, 0, range(0, 4), std::vector<double>(4), 4), (std::vector<int32_t>{0, 1, 2}));
}

TEST(KvPolicy, SinksStayAndTheRestSlides) {
    PolicyConfig p;
    p.kind = PolicyKind::SinksWindow;
    p.window = 6;
    p.sinks = 2;  // 2 sinks + 4 recent
    EXPECT_EQ(positions_to_evict(p, 0, range(0, 6), std::vector<double>(6), 6), std::vector<int32_t>{2});
    const auto roles = position_roles(p, 0, {0, 1, 3, 4, 5, 6}, std::vector<double>(6));
    EXPECT_EQ(roles[0], SlotRole::Sink);
    EXPECT_EQ(roles[1], SlotRole::Sink);
    EXPECT_EQ(roles[2], SlotRole::Window);
}

TEST(KvPolicy, GlobalPinsAndEveryKth) {
    PolicyConfig p;
    p.kind = PolicyKind::Global;
    p.window = 3;
    p.pins = {1};
    p.pin_every = 5;
    // held 0..9, next 10: recent = 8, 9, 10; pinned: 1 and multiples of 5 (0, 5).
    EXPECT_EQ(positions_to_evict(p, 0, range(0, 10), std::vector<double>(10), 10), (std::vector<int32_t>{2, 3, 4, 6, 7}));
    const auto roles = position_roles(p, 0, {0, 1, 5, 8, 9}, std::vector<double>(5));
    EXPECT_EQ(roles[1], SlotRole::Global);
    EXPECT_EQ(roles[2], SlotRole::Global);
    EXPECT_EQ(roles[3], SlotRole::Window);
}

TEST(KvPolicy, H2OKeepsHeavyHittersAndRecent) {
    PolicyConfig p;
    p.kind = PolicyKind::H2O;
    p.h2o_heavy = 2;
    p.h2o_recent = 2;
    // held 0..5 with scores; next 6: recent = 5, 6; older 0..4 keep the 2 best (3 and 1).
    const std::vector<double> scores = {0.1, 0.9, 0.2, 1.5, 0.05, 0.3};
    EXPECT_EQ(positions_to_evict(p, 0, range(0, 6), scores, 6), (std::vector<int32_t>{0, 2, 4}));
    const auto roles = position_roles(p, 0, {1, 3, 5, 6}, {0.9, 1.5, 0.3, 0});
    EXPECT_EQ(roles[0], SlotRole::HeavyHitter);
    EXPECT_EQ(roles[3], SlotRole::Window);
}

TEST(KvPolicy, LayerPatternAndDynamicWindow) {
    PolicyConfig p;
    p.kind = PolicyKind::Window;
    p.window = 2;
    p.full_every = 3;  // layers 2, 5, ... keep everything
    EXPECT_TRUE(p.layer_is_full(2));
    EXPECT_FALSE(p.layer_is_full(1));
    EXPECT_TRUE(positions_to_evict(p, 2, range(0, 10), std::vector<double>(10), 10).empty());
    EXPECT_EQ(p.layer_capacity(2, 100), 100);
    EXPECT_EQ(p.layer_capacity(1, 100), 2);
    PolicyConfig d;
    d.kind = PolicyKind::Window;
    d.dynamic = {{8, 0}, {16, 4}, {INT32_MAX, 6}};
    EXPECT_EQ(d.window_at(5), 0);
    EXPECT_EQ(d.window_at(10), 4);
    EXPECT_EQ(d.window_at(100), 6);
    EXPECT_TRUE(positions_to_evict(d, 0, range(0, 6), std::vector<double>(6), 6).empty());  // length 7: full
    EXPECT_EQ(positions_to_evict(d, 0, range(0, 9), std::vector<double>(9), 9).size(), 6u);  // length 10: window 4
}

TEST(KvPolicy, EveryImpossibleSettingIsRefusedWithItsRange) {
    PolicyConfig w;
    w.kind = PolicyKind::Window;
    w.window = 0;
    EXPECT_EQ(refusal(w), "window W must be between 1 and 100 (the context length is 100), got 0");
    w.window = 101;
    EXPECT_NE(refusal(w).find("got 101"), std::string::npos);

    PolicyConfig s;
    s.kind = PolicyKind::SinksWindow;
    s.window = 8;
    s.sinks = 8;
    EXPECT_EQ(refusal(s), "sinks S must be between 0 and 7 (S must be smaller than the window W = 8), got 8");

    PolicyConfig g;
    g.kind = PolicyKind::Global;
    g.window = 4;
    g.pins = {60};
    EXPECT_EQ(refusal(g), "pinned position must be between 0 and 49 (the text has 50 positions), got 60");

    PolicyConfig h;
    h.kind = PolicyKind::H2O;
    h.h2o_heavy = 90;
    h.h2o_recent = 20;
    EXPECT_EQ(refusal(h), "h2o H + R must be between 2 and 100 (the cache capacity), got 110");
    h.h2o_heavy = 2;
    h.h2o_recent = 0;
    EXPECT_NE(refusal(h).find("h2o recent R must be between 1 and 100"), std::string::npos);

    PolicyConfig l;
    l.full_every = 5;
    EXPECT_EQ(refusal(l), "layer pattern (every k-th layer full) must be between 0 and 4 (0 = off), got 5");

    PolicyConfig pins_on_window = w;
    pins_on_window.window = 4;
    pins_on_window.pins = {1};
    EXPECT_NE(refusal(pins_on_window).find("pins apply to the global policy only"), std::string::npos);

    PolicyConfig dyn;
    dyn.kind = PolicyKind::Window;
    dyn.dynamic = {{16, 4}, {8, 6}};
    EXPECT_NE(refusal(dyn).find("increasing lengths"), std::string::npos);

    EXPECT_THROW(parse_policy_kind("lru"), InvalidSetting);
    EXPECT_THROW(parse_kv_value_type("q4_0"), InvalidSetting);
    EXPECT_THROW(parse_position_mode("sideways"), InvalidSetting);
    EXPECT_EQ(parse_policy_kind("sinks"), PolicyKind::SinksWindow);
}

TEST(KvPolicy, Describe) {
    PolicyConfig s;
    s.kind = PolicyKind::SinksWindow;
    s.window = 256;
    s.sinks = 4;
    s.positions = PositionMode::InCache;
    EXPECT_EQ(s.describe(), "sinks(4)+window(256) f16 in-cache");
}
