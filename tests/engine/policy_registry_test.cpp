// The policy registry (issue 13): one entry per policy kind, names that parse
// back, parameters that the rules really read.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "kv/policy_registry.h"
#include "util/error.h"

using namespace kvscope;

TEST(PolicyRegistry, EveryKindHasOneEntryWhoseNameParsesBack) {
    std::set<std::string> names;
    std::set<int> kinds;
    for (const PolicyInfo& info : policy_registry()) {
        EXPECT_TRUE(names.insert(info.name).second) << info.name << " twice";
        EXPECT_TRUE(kinds.insert(static_cast<int>(info.kind)).second) << info.name;
        EXPECT_EQ(parse_policy_kind(info.name), info.kind);
        EXPECT_STREQ(policy_kind_name(info.kind), info.name);
        EXPECT_STRNE(info.rule, "");
        for (const PolicyParameter& p : info.parameters) EXPECT_GE(p.default_value, p.min) << info.name << " " << p.name;
    }
    // The enum's last kind is keydiff: every kind up to it is registered.
    EXPECT_EQ(kinds.size(), static_cast<size_t>(PolicyKind::KeyDiff) + 1);
    EXPECT_EQ(policy_names_text(), "full, window, sinks, global, h2o, tova, knorm, keydiff");
    try {
        parse_policy_kind("snapkv");
        FAIL();
    } catch (const InvalidSetting& e) {
        EXPECT_EQ(std::string(e.what()),
                  "policy must be one of full, window, sinks, global, h2o, tova, knorm, keydiff; got 'snapkv'");
    }
}

TEST(PolicyRegistry, AParameterAKindDoesNotListIsOneItsRuleIgnores) {
    // Changing a parameter the registry says the kind ignores leaves the
    // eviction decision unchanged; one it reads changes it (on this case).
    const std::vector<int32_t> held = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    const std::vector<double> scores = {5, 1, 4, 1, 5, 9, 2, 6, 5, 3};
    for (const PolicyInfo& info : policy_registry()) {
        PolicyConfig base;
        base.kind = info.kind;
        base.window = 4;
        base.sinks = 1;
        base.h2o_heavy = 2;
        base.h2o_recent = 2;
        base.budget = 4;
        const auto decided = positions_to_evict(base, 0, held, scores, 10);
        PolicyConfig w = base, s = base, b = base, h = base;
        w.window = 6;
        s.sinks = 3;
        b.budget = 6;
        h.h2o_heavy = 4;
        EXPECT_EQ(positions_to_evict(w, 0, held, scores, 10) != decided, policy_uses(info.kind, "window")) << info.name;
        EXPECT_EQ(positions_to_evict(s, 0, held, scores, 10) != decided, policy_uses(info.kind, "sinks")) << info.name;
        EXPECT_EQ(positions_to_evict(b, 0, held, scores, 10) != decided, policy_uses(info.kind, "budget")) << info.name;
        EXPECT_EQ(positions_to_evict(h, 0, held, scores, 10) != decided, policy_uses(info.kind, "h2o")) << info.name;
    }
}
