// Continuous-batching scheduler (see engine.h). Every sequence keeps all its ids (prompt and
// generated) and how many of them the KV cache holds; whatever is beyond that is "pending" and
// runs in later steps — a whole prompt in chunks, one token per step when decoding, or
// everything again after a preemption (recomputation keeps the sampler and detokenizer state,
// so a preempted sequence continues exactly as if it had not been).
#include "serve/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#include "core/thread_pool.h"
#include "generate/stop_strings.h"
#include "serve/embed.h"
#include "tokenizer/tokenizer.h"

namespace wick::serve {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// log-softmax of `logits` at `id`, and the `top_n` most likely tokens (ties: lower id first).
TokenOut token_logprobs(std::span<const float> logits, int32_t id, int top_n) {
  float max = -std::numeric_limits<float>::infinity();
  for (float v : logits) max = std::max(max, v);
  double sum = 0;
  for (float v : logits) sum += std::exp(static_cast<double>(v - max));
  const auto log_z = static_cast<float>(static_cast<double>(max) + std::log(sum));
  TokenOut out;
  out.id = id;
  out.logprob = logits[static_cast<size_t>(id)] - log_z;
  if (top_n > 0) {
    std::vector<int32_t> order(logits.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
    const auto n = std::min(order.size(), static_cast<size_t>(top_n));
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                      [&](int32_t a, int32_t b) {
                        const float va = logits[static_cast<size_t>(a)];
                        const float vb = logits[static_cast<size_t>(b)];
                        return va > vb || (va == vb && a < b);
                      });
    for (size_t i = 0; i < n; ++i)
      out.top.push_back({order[i], logits[static_cast<size_t>(order[i])] - log_z});
  }
  return out;
}

}  // namespace

const char* finish_reason_name(Finish f) {
  switch (f) {
    case Finish::kNone:
      return "";
    case Finish::kStop:
      return "stop";
    case Finish::kLength:
      return "length";
    case Finish::kCancelled:
      return "cancelled";
    case Finish::kError:
      return "error";
  }
  return "?";
}

struct Engine::Request {
  uint64_t id = 0;
  RequestSpec spec;
  EventFn on_event;
  int open = 0;  // choices not finished yet
  Clock::time_point submitted;
};

struct Engine::Sequence {
  std::shared_ptr<Request> req;
  int choice = 0;
  int seq_id = -1;              // in the KV cache; -1 while waiting
  std::vector<int32_t> tokens;  // prompt + generated
  int64_t prompt_len = 0;
  int64_t computed = 0;  // tokens the cache holds
  int generated = 0;
  std::optional<gen::Sampler> sampler;
  std::optional<tok::StreamDecoder> decoder;
  std::optional<gen::StopStringFilter> stops;
  std::unique_ptr<TokenConstraint> constraint;
  Finish finished = Finish::kNone;
  Clock::time_point last_token;
};

Engine::Engine(const models::Model& model, const tok::Tokenizer* tokenizer,
               std::vector<int32_t> eos_ids, EngineOptions options, Metrics* metrics)
    : model_(model),
      tokenizer_(tokenizer),
      eos_ids_(std::move(eos_ids)),
      opt_(options),
      metrics_(metrics),
      max_context_(options.max_context > 0 ? options.max_context
                                           : model.config().max_position_embeddings),
      kv_(model, options.block_size, options.kv_blocks, options.prefix_caching) {
  WICK_CHECK(opt_.max_batch > 0, ErrorKind::kInvalidArgument, "max_batch {} must be > 0",
             opt_.max_batch);
  WICK_CHECK(opt_.step_tokens > 0, ErrorKind::kInvalidArgument, "step_tokens {} must be > 0",
             opt_.step_tokens);
  thread_ = std::thread([this] { run(); });
}

Engine::~Engine() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Admission Engine::submit(uint64_t request_id, RequestSpec spec, EventFn on_event) {
  const auto vocab = model_.config().vocab_size;
  WICK_CHECK(!spec.prompt.empty(), ErrorKind::kInvalidArgument, "prompt: empty");
  for (int32_t id : spec.prompt)
    WICK_CHECK(id >= 0 && id < vocab, ErrorKind::kInvalidArgument,
               "prompt: token id {} outside the vocabulary [0, {})", id, vocab);
  WICK_CHECK(spec.n >= 1 && spec.n <= 128, ErrorKind::kInvalidArgument, "n: {} not in [1, 128]",
             spec.n);
  WICK_CHECK(spec.max_tokens >= 1, ErrorKind::kInvalidArgument, "max_tokens: {} must be >= 1",
             spec.max_tokens);
  WICK_CHECK(spec.top_logprobs >= 0 && spec.top_logprobs <= 20, ErrorKind::kInvalidArgument,
             "top_logprobs: {} not in [0, 20]", spec.top_logprobs);
  const auto len = static_cast<int64_t>(spec.prompt.size());
  WICK_CHECK(len < max_context_, ErrorKind::kInvalidArgument,
             "prompt: {} tokens; the model's context holds {} (prompt + completion)", len,
             max_context_);
  if (kv_.bounded())
    WICK_CHECK(kv_.blocks_for(len + 1) <= opt_.kv_blocks, ErrorKind::kInvalidArgument,
               "prompt: {} tokens need {} KV blocks; the pool has {} (raise --kv-memory)", len,
               kv_.blocks_for(len + 1), opt_.kv_blocks);
  auto req = std::make_shared<Request>();
  req->id = request_id;
  req->spec = std::move(spec);
  req->on_event = std::move(on_event);
  req->submitted = Clock::now();
  {
    std::lock_guard lock(mu_);
    if (draining_ || stop_) return Admission::kDraining;
    if (static_cast<int64_t>(incoming_.size()) + load_.waiting >= opt_.max_queue)
      return Admission::kQueueFull;
    incoming_.push_back(std::move(req));
  }
  wake_.notify_all();
  return Admission::kAccepted;
}

void Engine::cancel(uint64_t request_id) {
  {
    std::lock_guard lock(mu_);
    cancels_.push_back(request_id);
  }
  wake_.notify_all();
}

std::vector<float> Engine::embed(std::vector<int32_t> tokens) {
  const auto vocab = model_.config().vocab_size;
  WICK_CHECK(!tokens.empty(), ErrorKind::kInvalidArgument, "input: empty");
  WICK_CHECK(static_cast<int64_t>(tokens.size()) <= max_context_, ErrorKind::kInvalidArgument,
             "input: {} tokens; the model's context holds {}", tokens.size(), max_context_);
  for (int32_t id : tokens)
    WICK_CHECK(id >= 0 && id < vocab, ErrorKind::kInvalidArgument,
               "input: token id {} outside the vocabulary [0, {})", id, vocab);
  auto task = std::make_shared<std::packaged_task<std::vector<float>()>>(
      [this, t = std::move(tokens)] { return mean_pooled_embedding(model_, t); });
  std::future<std::vector<float>> result = task->get_future();
  {
    std::lock_guard lock(mu_);
    WICK_CHECK(!stop_ && !draining_, ErrorKind::kUnsupported, "the server is shutting down");
    jobs_.push_back([task] { (*task)(); });
  }
  wake_.notify_all();
  return result.get();
}

void Engine::drain() {
  std::unique_lock lock(mu_);
  draining_ = true;
  idle_.wait(lock, [&] {
    return stop_ ||
           (incoming_.empty() && jobs_.empty() && load_.waiting == 0 && load_.running == 0);
  });
}

Engine::Load Engine::load() const {
  std::lock_guard lock(mu_);
  return load_;
}

// ---- the engine thread ----

void Engine::run() {
  for (;;) {
    if (!take_incoming()) break;
    try {
      run_jobs();
      if (!waiting_.empty() || !running_.empty()) step();
    } catch (const std::exception& e) {
      // A failure of the step itself (not of one request's input): fail what runs, keep serving.
      for (auto& s : running_) finish(*s, Finish::kError, e.what());
      remove_finished();
    }
    std::lock_guard lock(mu_);
    load_.waiting = static_cast<int64_t>(waiting_.size());
    load_.running = static_cast<int64_t>(running_.size());
    load_.kv_blocks_used = kv_.used_blocks();
    load_.kv_blocks_total = kv_.total_blocks();
    load_.preemptions = preemptions_;
    if (incoming_.empty() && jobs_.empty() && waiting_.empty() && running_.empty())
      idle_.notify_all();
  }
  // Shutting down: tell every open request.
  for (auto& s : running_) finish(*s, Finish::kCancelled, "the server is shutting down");
  for (auto& s : waiting_) finish(*s, Finish::kCancelled, "the server is shutting down");
  std::lock_guard lock(mu_);
  for (auto& job : jobs_) job();  // their futures get results or errors, never hang
  jobs_.clear();
  idle_.notify_all();
}

// Moves new requests, cancels and jobs over from the shared side; false once stopping.
bool Engine::take_incoming() {
  std::deque<std::shared_ptr<Request>> incoming;
  std::vector<uint64_t> cancels;
  {
    std::unique_lock lock(mu_);
    wake_.wait(lock, [&] {
      return stop_ || !incoming_.empty() || !cancels_.empty() || !jobs_.empty() ||
             !waiting_.empty() || !running_.empty();
    });
    if (stop_) return false;
    incoming.swap(incoming_);
    cancels.swap(cancels_);
    load_.waiting += static_cast<int64_t>(incoming.size());
  }
  for (auto& req : incoming) {
    const RequestSpec& spec = req->spec;
    if (metrics_) metrics_->prompt_tokens(static_cast<int64_t>(spec.prompt.size()));
    req->open = spec.n;
    requests_[req->id] = req;
    for (int c = 0; c < spec.n; ++c) {
      auto s = std::make_unique<Sequence>();
      s->req = req;
      s->choice = c;
      s->tokens = spec.prompt;
      s->prompt_len = static_cast<int64_t>(spec.prompt.size());
      gen::SamplingParams p = spec.sampling;
      p.seed += static_cast<uint64_t>(c);
      s->sampler.emplace(p, eos_ids_, tokenizer_);
      if (tokenizer_) s->decoder.emplace(*tokenizer_, true);
      s->stops.emplace(spec.stop);
      if (spec.constraint) s->constraint = spec.constraint();
      waiting_.push_back(std::move(s));
    }
  }
  for (uint64_t id : cancels) {
    if (requests_.erase(id) == 0) continue;
    auto drop = [&](auto& list) {
      for (auto& s : list)
        if (s->req->id == id) {
          if (s->seq_id >= 0) kv_.remove(s->seq_id);
          s->seq_id = -1;
          s->finished = Finish::kCancelled;
        }
    };
    drop(running_);
    drop(waiting_);
  }
  remove_finished();
  return true;
}

void Engine::run_jobs() {
  std::deque<std::function<void()>> jobs;
  {
    std::lock_guard lock(mu_);
    jobs.swap(jobs_);
  }
  for (auto& job : jobs) job();
}

// Admits waiting sequences (oldest first) while the pool keeps one spare block per running one.
void Engine::admit() {
  while (!waiting_.empty() && static_cast<int>(running_.size()) < opt_.max_batch) {
    Sequence& s = *waiting_.front();
    const int64_t need = kv_.blocks_for(static_cast<int64_t>(s.tokens.size()) + 1);
    const auto reserve = static_cast<int64_t>(running_.size());
    if (!running_.empty() && need + reserve > kv_.free_blocks()) break;
    s.seq_id = next_seq_id_++;
    if (next_seq_id_ == std::numeric_limits<int>::max()) next_seq_id_ = 1;
    kv_.add(s.seq_id);
    s.computed = kv_.attach_prefix(s.seq_id, s.tokens);
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
}

void Engine::preempt(Sequence& s) {
  kv_.remove(s.seq_id);
  s.seq_id = -1;
  s.computed = 0;
  ++preemptions_;
  auto it =
      std::find_if(running_.begin(), running_.end(), [&](const auto& p) { return p.get() == &s; });
  waiting_.push_front(std::move(*it));
  running_.erase(it);
}

void Engine::step() {
  admit();
  if (running_.empty()) return;
  struct Item {
    Sequence* s;
    int64_t n;
  };
  std::vector<Item> plan;
  int64_t budget = opt_.step_tokens;
  for (auto& s : running_)  // decode steps first: running streams never stall behind prompts
    if (static_cast<int64_t>(s->tokens.size()) - s->computed == 1) {
      plan.push_back({s.get(), 1});
      --budget;
    }
  for (auto& s : running_) {
    const int64_t pending = static_cast<int64_t>(s->tokens.size()) - s->computed;
    if (pending > 1 && budget > 0) {
      plan.push_back({s.get(), std::min(pending, budget)});
      budget -= plan.back().n;
    }
  }
  // KV memory: preempt the youngest sequences until the batch fits.
  for (;;) {
    int64_t need = 0;
    for (const Item& it : plan) need += kv_.blocks_needed(it.s->seq_id, it.n);
    if (need <= kv_.free_blocks()) break;
    Sequence& victim = *running_.back();
    std::erase_if(plan, [&](const Item& it) { return it.s == &victim; });
    if (running_.size() == 1) {
      finish(victim, victim.generated > 0 ? Finish::kLength : Finish::kError,
             "the sequence does not fit in the KV memory (raise --kv-memory)");
      remove_finished();
      return;
    }
    preempt(victim);
  }
  if (plan.empty()) return;

  std::vector<models::BatchItem> items;
  items.reserve(plan.size());
  for (const Item& it : plan)
    items.push_back({it.s->seq_id,
                     std::span<const int32_t>(it.s->tokens)
                         .subspan(static_cast<size_t>(it.s->computed), static_cast<size_t>(it.n)),
                     false});
  const auto forward_start = Clock::now();
  Tensor logits = model_.forward(items, kv_.cache());
  const auto sample_start = Clock::now();
  const float* rows = nullptr;
  if (logits.dtype() == DType::kF32 && logits.is_contiguous()) {
    rows = logits.data<float>();
  } else {
    logits_ = logits.to_float_vector();
    rows = logits_.data();
  }
  const auto vocab = static_cast<size_t>(logits.dim(1));
  const auto row = [&](size_t i) { return std::span<const float>(rows + i * vocab, vocab); };
  // Sequences whose prompt is done sample now. Those without a constraint sample in parallel
  // (each has its own sampler and RNG, so the ids do not depend on the split); constrained ones
  // share mask caches and sample in order below, as do the events.
  std::vector<size_t> ready;
  for (size_t i = 0; i < plan.size(); ++i) {
    Sequence& s = *plan[i].s;
    s.computed += plan[i].n;
    if (s.computed == static_cast<int64_t>(s.tokens.size())) ready.push_back(i);
  }
  std::vector<int32_t> sampled(plan.size(), -1);
  if (ready.size() > 1)
    parallel_for(static_cast<int64_t>(ready.size()), 1, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const size_t i = ready[static_cast<size_t>(r)];
        Sequence& s = *plan[i].s;
        if (!s.constraint) sampled[i] = s.sampler->sample(row(i), s.tokens, {});
      }
    });
  for (size_t i : ready) emit_token(*plan[i].s, row(i), sampled[i]);
  if (metrics_) {
    int64_t tokens = 0;
    for (const Item& it : plan) tokens += it.n;
    metrics_->step(seconds_between(forward_start, sample_start),
                   seconds_between(sample_start, Clock::now()), tokens,
                   static_cast<int64_t>(plan.size()));
  }
  remove_finished();
}

// Samples the next token of `s` from its logits row and tells the request.
void Engine::emit_token(Sequence& s, std::span<const float> logits, int32_t sampled) {
  const RequestSpec& spec = s.req->spec;
  int32_t id = sampled;
  if (id < 0) {
    // Constrained decoding: the sampler's mask stage drops disallowed tokens before any other.
    std::vector<uint64_t> allowed;
    if (s.constraint) s.constraint->allowed(allowed);
    id = s.sampler->sample(logits, s.tokens, allowed);
    if (s.constraint) s.constraint->accept(id);
  }
  const auto now = Clock::now();
  Event ev;
  ev.choice = s.choice;
  Finish finish_as = Finish::kNone;
  bool stop_hit = false;
  const bool eos = std::find(eos_ids_.begin(), eos_ids_.end(), id) != eos_ids_.end();
  if (eos && !spec.ignore_eos) {
    finish_as = Finish::kStop;  // EOS ends the choice and is not part of the output
  } else {
    s.tokens.push_back(id);
    ++s.generated;
    if (metrics_) {
      metrics_->generated_tokens(1);
      if (s.generated == 1)
        metrics_->ttft(seconds_between(s.req->submitted, now));
      else
        metrics_->inter_token(seconds_between(s.last_token, now));
    }
    s.last_token = now;
    if (spec.logprobs)
      ev.tokens.push_back(token_logprobs(logits, id, spec.top_logprobs));
    else
      ev.tokens.push_back({id, 0, {}});
    if (s.decoder)
      if (std::optional<std::string> delta = s.decoder->step(id))
        ev.text = s.stops->push(*delta, stop_hit);
    if (stop_hit)
      finish_as = Finish::kStop;
    else if (s.generated >= spec.max_tokens ||
             static_cast<int64_t>(s.tokens.size()) >= max_context_)
      finish_as = Finish::kLength;
  }
  if (finish_as != Finish::kNone) {
    if (!stop_hit) ev.text += s.stops->flush();
    ev.finish = finish_as;
    ev.prompt_tokens = s.prompt_len;
    ev.completion_tokens = s.generated;
    s.finished = finish_as;
    if (--s.req->open == 0) {
      if (metrics_) metrics_->request_latency(seconds_between(s.req->submitted, now));
      requests_.erase(s.req->id);
    }
  }
  s.req->on_event(std::move(ev));
}

// Ends `s` without a token (errors, shutdown).
void Engine::finish(Sequence& s, Finish f, std::string error) {
  if (s.finished != Finish::kNone) return;
  s.finished = f;
  Event ev;
  ev.choice = s.choice;
  ev.finish = f;
  ev.error = std::move(error);
  ev.prompt_tokens = s.prompt_len;
  ev.completion_tokens = s.generated;
  if (--s.req->open == 0) requests_.erase(s.req->id);
  s.req->on_event(std::move(ev));
}

void Engine::remove_finished() {
  auto done = [&](const std::unique_ptr<Sequence>& s) {
    if (s->finished == Finish::kNone) return false;
    if (s->seq_id >= 0) kv_.remove(s->seq_id);
    return true;
  };
  std::erase_if(running_, done);
  std::erase_if(waiting_, done);
}

}  // namespace wick::serve
