// Engine: continuous batching over one model. One thread owns the model and the KV cache; each
// step it builds ONE batch from every running sequence's next token plus chunks of waiting
// prompts (chunked prefill under a token budget), runs one Model::forward, then samples,
// detokenizes and applies the stop criteria per sequence and hands events to each request's
// callback. Knows nothing of HTTP or JSON: the server turns requests into RequestSpecs.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "generate/sampler.h"
#include "models/model.h"
#include "serve/kv_blocks.h"
#include "serve/metrics.h"

namespace wick::tok {
class Tokenizer;
}

namespace wick::serve {

struct TokenAlt {
  int32_t id = -1;
  float logprob = 0;
};
// One generated token with its log-probability under the model's raw distribution
// (log-softmax of the logits) and the most likely alternatives when asked for.
struct TokenOut {
  int32_t id = -1;
  float logprob = 0;
  std::vector<TokenAlt> top;
};

enum class Finish { kNone, kStop, kLength, kCancelled, kError };
const char* finish_reason_name(Finish f);  // OpenAI's names: "stop", "length", ...

// What the engine tells a request, per choice, in order. The last event of a choice has
// `finish` set (and `error` when kError).
struct Event {
  int choice = 0;
  std::string text;              // newly completed text (may be empty)
  std::vector<TokenOut> tokens;  // the tokens this event covers
  Finish finish = Finish::kNone;
  int64_t prompt_tokens = 0;      // set on finish
  int64_t completion_tokens = 0;  // set on finish
  std::string error;
};

// Hook for constrained decoding (issue 8): one instance per choice; `allowed` fills a bitmask
// over the vocabulary (bit i of word i / 64 = token i allowed), `accept` advances its state.
class TokenConstraint {
 public:
  virtual ~TokenConstraint() = default;
  virtual void allowed(std::vector<uint64_t>& bits) = 0;
  virtual void accept(int32_t id) = 0;
};

struct RequestSpec {
  std::vector<int32_t> prompt;
  int n = 1;  // choices; each is its own sequence (seed + choice index)
  int max_tokens = 256;
  gen::SamplingParams sampling;
  std::vector<std::string> stop;
  bool ignore_eos = false;
  bool logprobs = false;
  int top_logprobs = 0;
  std::function<std::unique_ptr<TokenConstraint>()> constraint;  // empty: unconstrained
};

// Called on the engine thread; must not block (hand the event to the connection's thread).
using EventFn = std::function<void(Event)>;

struct EngineOptions {
  int max_batch = 64;     // running sequences per step
  int step_tokens = 512;  // tokens per forward (decode tokens + prefill chunks)
  int max_queue = 256;    // waiting requests beyond which submit() refuses
  int64_t kv_blocks = 0;  // KV pool size in blocks; 0: grows on demand
  int64_t block_size = 16;
  int64_t max_context = 0;     // 0: the model's max_position_embeddings
  bool prefix_caching = true;  // share KV blocks of identical prompt prefixes
};

enum class Admission { kAccepted, kQueueFull, kDraining };

class Engine {
 public:
  Engine(const models::Model& model, const tok::Tokenizer* tokenizer, std::vector<int32_t> eos_ids,
         EngineOptions options, Metrics* metrics = nullptr);
  ~Engine();  // stops the thread; pending requests finish as kCancelled
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Validates the spec (throws Error kInvalidArgument naming the field) and queues it.
  Admission submit(uint64_t request_id, RequestSpec spec, EventFn on_event);
  // Frees the request's sequences at the next step; no event follows. Unknown ids are ignored.
  void cancel(uint64_t request_id);
  // Mean-pooled final hidden states of `tokens` (hidden_size floats), run on the engine thread.
  std::vector<float> embed(std::vector<int32_t> tokens);
  // Stops accepting requests (submit -> kDraining) and returns once nothing runs or waits.
  void drain();

  int64_t max_context() const { return max_context_; }
  int64_t kv_block_size() const { return kv_.block_size(); }
  struct Load {
    int64_t waiting = 0, running = 0, kv_blocks_used = 0, kv_blocks_total = 0;
    int64_t preemptions = 0;
  };
  Load load() const;

 private:
  struct Request;
  struct Sequence;

  void run();
  bool take_incoming();
  void step();
  void admit();
  void finish(Sequence& s, Finish f, std::string error = {});
  // Tells the request the token `s` sampled from `logits` (`sampled`, or sampled here when -1).
  void emit_token(Sequence& s, std::span<const float> logits, int32_t sampled = -1);
  void preempt(Sequence& s);
  void remove_finished();
  void run_jobs();

  const models::Model& model_;
  const tok::Tokenizer* tokenizer_;
  std::vector<int32_t> eos_ids_;
  EngineOptions opt_;
  Metrics* metrics_;
  int64_t max_context_ = 0;
  KvBlocks kv_;

  // Shared with other threads, under mu_.
  mutable std::mutex mu_;
  std::condition_variable wake_, idle_;
  std::deque<std::shared_ptr<Request>> incoming_;
  std::vector<uint64_t> cancels_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false, draining_ = false;
  Load load_;

  // Engine thread only.
  std::unordered_map<uint64_t, std::shared_ptr<Request>> requests_;
  std::deque<std::unique_ptr<Sequence>> waiting_;
  std::vector<std::unique_ptr<Sequence>> running_;  // admission order: oldest first
  int next_seq_id_ = 1;
  int64_t preemptions_ = 0;
  std::vector<float> logits_;
  std::thread thread_;
};

}  // namespace wick::serve
