#pragma once
// The llama.cpp reference fixtures (tests/data/reference*/NAME.json, made by
// tools/llamacpp-reference/dump_reference): listing and reading them, for the
// agreement tests of each model family.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kvscope::test {

// The .json files of tests/data/<folder>, sorted by name; empty when the folder is absent.
inline std::vector<std::filesystem::path> reference_fixture_files(const std::string& folder) {
    std::vector<std::filesystem::path> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(std::string(KVSCOPE_TEST_DATA_DIR) + "/" + folder, ec))
        if (e.path().extension() == ".json") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

inline nlohmann::json load_reference_fixture(const std::filesystem::path& p) {
    std::ifstream in(p);
    return nlohmann::json::parse(in);
}

// A parameterised test's name: the fixture's file name without .json.
inline std::string fixture_test_name(const ::testing::TestParamInfo<std::filesystem::path>& info) {
    return info.param.stem().string();
}

}  // namespace kvscope::test
