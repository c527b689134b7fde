// Sweep grid expansion and CSV output (no model needed).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "eval/sweep.h"
#include "util/error.h"

using namespace kvscope;

TEST(Sweep, PlanExpandsThePoliciesAndSkipsSinksNotBelowTheWindow) {
    SweepGrid grid;
    grid.windows = {4, 8};
    grid.sinks = {0, 4};
    const auto rows = sweep_plan(grid);
    // full; window 4, 8; sinks: (4,0) and (8,0) left to window, (4,4) skipped, (8,4) run.
    ASSERT_EQ(rows.size(), 5u);
    EXPECT_EQ(rows[0].policy.kind, PolicyKind::Full);
    EXPECT_EQ(rows[1].policy.kind, PolicyKind::Window);
    EXPECT_EQ(rows[1].policy.window, 4);
    EXPECT_EQ(rows[2].policy.window, 8);
    EXPECT_EQ(rows[3].policy.kind, PolicyKind::SinksWindow);
    EXPECT_EQ(rows[3].policy.window, 4);
    EXPECT_EQ(rows[3].policy.sinks, 4);
    EXPECT_FALSE(rows[3].ran());
    EXPECT_NE(rows[3].note.find("smaller than window"), std::string::npos);
    EXPECT_TRUE(rows[4].ran());
    EXPECT_EQ(rows[4].policy.sinks, 4);
    EXPECT_EQ(rows[4].policy.window, 8);
}

TEST(Sweep, SinksZeroRunsAsAWindowWhenWindowIsNotInTheGrid) {
    SweepGrid grid;
    grid.policies = {PolicyKind::SinksWindow};
    grid.windows = {16};
    grid.sinks = {0, 4};
    grid.kv_types = {KvValueType::F16, KvValueType::Q8_0};
    const auto rows = sweep_plan(grid);
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0].policy.kind, PolicyKind::Window);
    EXPECT_EQ(rows[1].policy.kind, PolicyKind::SinksWindow);
    EXPECT_EQ(rows[2].policy.kv_type, KvValueType::Q8_0);
}

TEST(Sweep, PlanRefusesImpossibleGrids) {
    SweepGrid grid;
    EXPECT_THROW(sweep_plan(grid), InvalidSetting);  // windowed policies, no window
    grid.windows = {0};
    EXPECT_THROW(sweep_plan(grid), InvalidSetting);
    grid.windows = {8};
    grid.sinks = {-1};
    EXPECT_THROW(sweep_plan(grid), InvalidSetting);
    grid.sinks = {0};
    grid.policies = {PolicyKind::Global};  // its pins belong to one text
    EXPECT_THROW(sweep_plan(grid), InvalidSetting);
    grid.policies = {PolicyKind::Full};
    grid.windows = {};
    EXPECT_EQ(sweep_plan(grid).size(), 1u);
}

TEST(Sweep, TovaAndH2OTakeEachWindowAsTheirBudget) {
    SweepGrid grid;
    grid.policies = {PolicyKind::Tova, PolicyKind::H2O};
    grid.windows = {1, 64, 257};
    const auto rows = sweep_plan(grid);
    ASSERT_EQ(rows.size(), 6u);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(rows[i].policy.kind, PolicyKind::Tova);
        EXPECT_EQ(rows[i].policy.budget, grid.windows[i]);
        EXPECT_EQ(sweep_size(rows[i].policy), grid.windows[i]);
        EXPECT_EQ(rows[3 + i].policy.kind, PolicyKind::H2O);
        EXPECT_EQ(sweep_size(rows[3 + i].policy), grid.windows[i]);
        EXPECT_NO_THROW(rows[3 + i].policy.validate(1024, 30, 10)) << rows[3 + i].policy.describe();
        EXPECT_NO_THROW(rows[i].policy.validate(1024, 30, 10)) << rows[i].policy.describe();
    }
    EXPECT_EQ(rows[4].policy.h2o_heavy, 32);
    EXPECT_EQ(rows[5].policy.h2o_heavy, 128);
    EXPECT_EQ(rows[5].policy.h2o_recent, 129);
    EXPECT_EQ(sweep_csv({rows[0]}).substr(sweep_csv({rows[0]}).find('\n') + 1, 9), "tova,1,0,");
}

TEST(Sweep, CsvHasAHeaderAndEmptyNumbersForSkippedRows) {
    SweepRow ran;
    ran.policy.kind = PolicyKind::SinksWindow;
    ran.policy.window = 256;
    ran.policy.sinks = 4;
    ran.kv_bytes = 1234;
    ran.ppl = 12.5;
    ran.mean_kl = 0.0125;
    ran.top1 = 0.9;
    ran.n_scored = 99;
    SweepRow no_ref = ran;
    no_ref.mean_kl = std::nan("");
    no_ref.top1 = std::nan("");
    SweepRow skipped;
    skipped.policy.kind = PolicyKind::SinksWindow;
    skipped.policy.window = 4;
    skipped.policy.sinks = 4;
    skipped.note = "skipped: sinks 4, window 4";
    EXPECT_EQ(sweep_csv({ran, no_ref, skipped}),
              "policy,window,sinks,kv_type,positions,kv_bytes,ppl,mean_kl,top1,n_scored,note\n"
              "sinks,256,4,f16,original,1234,12.5000,0.012500,0.9000,99,\n"
              "sinks,256,4,f16,original,1234,12.5000,,,99,\n"
              "sinks,4,4,f16,original,,,,,,\"skipped: sinks 4, window 4\"\n");
}

TEST(Sweep, CsvIsWrittenAtomicallyAndUnwritablePathsAreNamed) {
    const auto dir = std::filesystem::temp_directory_path() / ("kvscope_sweep_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "out.csv").string();
    write_sweep_csv({}, path);
    write_sweep_csv({}, path);  // replaces
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str(), sweep_csv({}));
    size_t files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
    EXPECT_EQ(files, 1u) << "no temporary file is left behind";
    const std::string bad = (dir / "missing" / "out.csv").string();
    try {
        write_sweep_csv({}, bad);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
    std::filesystem::remove_all(dir);
}
