// `wick bench` as a library: llama-bench's prompt-processing (pp<N>: one forward of N random
// tokens into a fresh cache) and text-generation (tg<N>: N single-token forwards from a fresh
// cache) tests, timed over repetitions after a warm-up, plus the machine's read bandwidth (one
// pass summing a buffer far larger than the caches, the ceiling for decode's weight reads).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "models/model.h"

namespace wick::tools {

struct BenchModelInfo {
  std::string filename;  // as given
  std::string type;      // "llama 135M Q4_1", llama-bench's model_type
  uint64_t size_bytes = 0;
  uint64_t n_params = 0;
  // Weight bytes one decode step reads: every weight but the embedding table (one row of it is
  // read), the table counted when it doubles as the output projection. KV reads not counted.
  uint64_t decode_bytes_per_token = 0;
};
BenchModelInfo describe_bench_model(const std::string& path);

struct BenchResult {
  int n_threads = 1;
  int n_prompt = 0;  // pp test when > 0
  int n_gen = 0;     // tg test when > 0
  int n_seqs = 0;    // batched tg test when > 0: n_gen steps of n_seqs sequences each
  int depth = 0;     // batched tg test: tokens each sequence holds before the timed steps
  std::vector<double> samples_ns;
  int n_tokens() const { return n_seqs > 0 ? n_gen * n_seqs : n_prompt + n_gen; }
  double avg_ns() const;
  double stddev_ns() const;
  std::vector<double> samples_ts() const;  // tokens/s per repetition
  double avg_ts() const;
  double stddev_ts() const;
  std::string test_name() const;  // "pp512", "tg128", "tg128x32" (batched)
};

// One pp test (n_prompt > 0) or tg test (n_gen > 0) with the global pool's current size:
// one untimed warm-up, then `reps` timed runs. Token ids are drawn from a seeded RNG.
BenchResult run_bench_test(const models::Model& model, int n_prompt, int n_gen, int reps,
                           uint64_t seed = 1234);

// Batched decode, as a server runs it: `n_seqs` sequences each hold `depth` random tokens
// (one untimed batched prefill), then `n_gen` timed steps each run one forward of n_seqs
// single-token items and copy the logits to the host (where a server samples). Tokens/s counts
// every sequence's tokens. One untimed warm-up, then `reps` timed runs.
BenchResult run_batched_decode_test(const models::Model& model, int n_seqs, int depth, int n_gen,
                                    int reps, uint64_t seed = 1234);

// llama-bench's JSON object for one result.
nlohmann::json bench_result_json(const BenchModelInfo& model, const BenchResult& r);
// llama-bench's markdown row: | model | size | params | backend | threads | test | t/s |
std::string bench_table_header();
std::string bench_table_row(const BenchModelInfo& model, const BenchResult& r);

// Read bandwidth in GB/s (1e9 bytes/s) with the global pool at `threads`: best of `reps` passes
// over `buffer_bytes`.
double measure_read_bandwidth_gbs(int threads, size_t buffer_bytes = size_t{256} << 20,
                                  int reps = 5);

}  // namespace wick::tools
