#include "session/int_runs.h"

namespace kvscope::int_runs {

std::vector<int32_t> encode(const std::vector<int32_t>& values) {
    std::vector<int32_t> runs;  // [n_runs][2] (first, count)
    for (size_t i = 0; i < values.size();) {
        size_t j = i + 1;
        while (j < values.size() && static_cast<int64_t>(values[j]) == static_cast<int64_t>(values[j - 1]) + 1) ++j;
        runs.push_back(values[i]);
        runs.push_back(static_cast<int32_t>(j - i));
        i = j;
    }
    runs.shrink_to_fit();
    return runs;
}

int64_t length(const std::vector<int32_t>& runs) {
    int64_t n = 0;
    for (size_t r = 1; r < runs.size(); r += 2) n += runs[r];
    return n;
}

std::vector<int32_t> decode(const std::vector<int32_t>& runs) {
    std::vector<int32_t> values;  // [n]
    values.reserve(static_cast<size_t>(length(runs)));
    for (size_t r = 0; r + 1 < runs.size(); r += 2)
        for (int32_t k = 0; k < runs[r + 1]; ++k) values.push_back(runs[r] + k);
    return values;
}

std::string check(const int32_t* runs, size_t n_ints, int64_t limit, bool increasing) {
    if (n_ints % 2 != 0) return "odd number of integers in a run list";
    int64_t total = 0;
    int64_t previous_end = -1;  // one past the last value of the previous run
    for (size_t r = 0; r < n_ints; r += 2) {
        const int64_t first = runs[r];
        const int64_t count = runs[r + 1];
        if (count < 1) return "run of length " + std::to_string(count);
        if (first < 0 || first + count > limit)
            return "values " + std::to_string(first) + ".." + std::to_string(first + count - 1) + " outside [0, " +
                   std::to_string(limit) + ")";
        if (increasing && first < previous_end) return "values not increasing at " + std::to_string(first);
        previous_end = first + count;
        total += count;
        if (total > limit) return "more than " + std::to_string(limit) + " values";
    }
    return "";
}

std::vector<int32_t> rle_encode(const std::vector<int32_t>& values) {
    std::vector<int32_t> rle;  // [n_runs][2] (value, count)
    for (size_t i = 0; i < values.size();) {
        size_t j = i + 1;
        while (j < values.size() && values[j] == values[i]) ++j;
        rle.push_back(values[i]);
        rle.push_back(static_cast<int32_t>(j - i));
        i = j;
    }
    rle.shrink_to_fit();
    return rle;
}

std::vector<int32_t> rle_decode(const std::vector<int32_t>& rle) {
    std::vector<int32_t> values;  // [n]
    for (size_t r = 0; r + 1 < rle.size(); r += 2) values.insert(values.end(), static_cast<size_t>(rle[r + 1]), rle[r]);
    return values;
}

std::string rle_check(const std::vector<int32_t>& rle, int32_t value_limit, int64_t length_limit) {
    if (rle.size() % 2 != 0) return "odd number of integers in a run-length list";
    int64_t total = 0;
    for (size_t r = 0; r < rle.size(); r += 2) {
        if (rle[r] < 0 || rle[r] >= value_limit) return "value " + std::to_string(rle[r]) + " out of range";
        if (rle[r + 1] < 1) return "run of length " + std::to_string(rle[r + 1]);
        total += rle[r + 1];
        if (total > length_limit) return "more than " + std::to_string(length_limit) + " values";
    }
    return "";
}

}  // namespace kvscope::int_runs
