#pragma once
// The attention file of an exported trace (<prefix>.attn.bin), little-endian:
//
//   char[4] "KVSA"; u32 version = 1; u32 codec = 1 (attention_codec.h)
//   u32 n_layer; u32 n_head; u32 has_prefill (0/1); u32 n_steps
//   then per entry (the prefill first when present, then each step):
//     u32 n_queries
//     per query: i32 position
//       per layer [n_layer]: u32 n_runs; i32 runs[n_runs][2] (first, count);
//                            u32 n_codes (0 = dropped, else n_head * n_keys);
//                            u8 codes[n_codes] ([n_head][n_keys])
//   char[4] "KVSE"
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "session/trace.h"
#include "util/atomic_file.h"

namespace kvscope::trace_detail {

void write_attention_file(const Trace& trace, const std::string& path);
// The same in pieces, for a writer that copies the trace out a little at a
// time: begin; then per entry (the prefill when there is one, then each of
// the n_steps steps) its query count and its queries; then end. The caller
// commits the file.
void write_attention_begin(AtomicFile& f, const TraceHeader& header, bool has_prefill, size_t n_steps);
void write_attention_query_count(AtomicFile& f, size_t n_queries);
void write_attention_query(AtomicFile& f, const StoredQuery& query);
void write_attention_end(AtomicFile& f);

// Fills the queries of `prefill` and `steps` (whose count must match the
// file's). Throws Error naming the file and the problem.
void read_attention_file(const std::string& path, const TraceHeader& header, std::optional<StoredEntry>& prefill,
                         std::vector<StoredEntry>& steps);
// The same from bytes in memory (`name` names them in messages).
void read_attention_bytes(const uint8_t* data, size_t size, const std::string& name, const TraceHeader& header,
                          std::optional<StoredEntry>& prefill, std::vector<StoredEntry>& steps);

}  // namespace kvscope::trace_detail
