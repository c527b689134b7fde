#pragma once
// Compact integer sequences for the trace. Held positions, slots, block
// tables and attention key positions are mostly runs of consecutive values,
// so they are stored as run lists:
//
//   runs: [n_runs][2] (first, count) = first, first+1, ..., first+count-1
//
// Roles (few distinct values in long stretches) are stored run-length coded:
//
//   rle:  [n_runs][2] (value, count)
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kvscope::int_runs {

std::vector<int32_t> encode(const std::vector<int32_t>& values);   // values: [n] -> runs
std::vector<int32_t> decode(const std::vector<int32_t>& runs);     // runs -> values: [n]
int64_t length(const std::vector<int32_t>& runs);                   // n, without decoding

// Why `runs` ([n_ints]) is not a valid run list whose values all lie in
// [0, limit) and whose total length is at most `limit`; "" when it is.
// With `increasing`, the values must also be strictly increasing.
std::string check(const int32_t* runs, size_t n_ints, int64_t limit, bool increasing);

std::vector<int32_t> rle_encode(const std::vector<int32_t>& values);  // values: [n] -> rle
std::vector<int32_t> rle_decode(const std::vector<int32_t>& rle);     // rle -> values: [n]
// Why `rle` is not valid with values in [0, value_limit) and total length <= length_limit; "" when it is.
std::string rle_check(const std::vector<int32_t>& rle, int32_t value_limit, int64_t length_limit);

}  // namespace kvscope::int_runs
