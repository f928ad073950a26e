// ThreadPool: tasks claimed from one atomic counter; idle workers spin briefly, then sleep on a
// futex until the next job.
#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <utility>
#include <memory>
#include <mutex>

#include "core/error.h"

namespace wick {
namespace {

// How long an idle thread spins before it sleeps: long enough to bridge the host code between
// two ops of a decode step, short enough not to steal much from other processes on a busy
// machine.
constexpr auto kSpinTime = std::chrono::microseconds(50);
constexpr uint64_t kTaskMask = 0xffffffffull;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins until pred() holds or kSpinTime has passed; returns pred()'s last value.
template <typename Pred>
bool spin_until(Pred pred) {
  if (pred()) return true;
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  while (true) {
    for (int i = 0; i < 64; ++i) {
      cpu_relax();
      if (pred()) return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return pred();
  }
}

// Set while a thread runs a task: a task that calls parallel_for again runs that loop inline.
thread_local bool t_in_task = false;

std::mutex g_pool_mutex;
std::unique_ptr<ThreadPool> g_pool;
int g_requested_threads = 0;

int default_thread_count() {
  if (const char* env = std::getenv("WICK_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  workers_.reserve(static_cast<size_t>(n_threads_ - 1));
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  wake_.fetch_add(1, std::memory_order_acq_rel);
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::claim_and_run() {
  while (true) {
    uint64_t state = state_.load(std::memory_order_acquire);
    // A successful claim below proves the job of `state` was still running when task_ and
    // n_tasks_ were read (run_tasks replaces them only after every task is claimed and done).
    const std::function<void(int64_t)>* task = task_.load(std::memory_order_acquire);
    const int64_t n_tasks = n_tasks_.load(std::memory_order_acquire);
    const auto next = static_cast<int64_t>(state & kTaskMask);
    if (next >= n_tasks || task == nullptr) return;
    if (!state_.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
      continue;
    }
    t_in_task = true;
    try {
      (*task)(next);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
    t_in_task = false;
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_tasks) done_.notify_all();
  }
}

void ThreadPool::worker_loop() {
  uint32_t seen = 0;
  while (true) {
    uint32_t now = seen;
    spin_until([&] { return (now = wake_.load(std::memory_order_acquire)) != seen; });
    while (now == seen) {
      wake_.wait(seen, std::memory_order_acquire);
      now = wake_.load(std::memory_order_acquire);
    }
    seen = now;
    if (stop_.load(std::memory_order_acquire)) return;
    claim_and_run();
  }
}

void ThreadPool::run_tasks(int64_t n_tasks, const std::function<void(int64_t)>& task) {
  if (n_tasks <= 0) return;
  WICK_CHECK(n_tasks < (int64_t{1} << 31), ErrorKind::kInvalidArgument,
             "thread pool job of {} tasks (at most 2^31 - 1)", n_tasks);
  if (n_threads_ == 1 || n_tasks == 1 || t_in_task) {
    for (int64_t i = 0; i < n_tasks; ++i) task(i);
    return;
  }
  // Callers on different threads take turns (the server's threads may share the global pool).
  std::lock_guard<std::mutex> lock(run_mutex_);
  // The previous job's tasks are all claimed and done. Close the counter first: a worker that
  // read the previous job's (fully claimed) state and then sees the new task_ / n_tasks_ would
  // otherwise claim against that old state before the new generation is stored, run a task the
  // caller also runs and push done_ past n_tasks (the caller then waits forever). Its
  // compare-exchange now fails, and the closed state has no task left to claim.
  const uint64_t generation = (state_.load(std::memory_order_relaxed) >> 32) + 1;
  state_.store((generation << 32) | kTaskMask, std::memory_order_release);
  task_.store(&task, std::memory_order_release);
  n_tasks_.store(n_tasks, std::memory_order_release);
  done_.store(0, std::memory_order_release);
  state_.store(generation << 32, std::memory_order_release);
  wake_.fetch_add(1, std::memory_order_acq_rel);
  wake_.notify_all();
  claim_and_run();
  const auto all_done = [&] { return done_.load(std::memory_order_acquire) == n_tasks; };
  if (!spin_until(all_done)) {
    int32_t done = done_.load(std::memory_order_acquire);
    while (done != n_tasks) {
      done_.wait(done, std::memory_order_acquire);
      done = done_.load(std::memory_order_acquire);
    }
  }
  task_.store(nullptr, std::memory_order_release);
  if (error_) {
    std::exception_ptr error = std::exchange(error_, nullptr);
    std::rethrow_exception(error);
  }
}

void ThreadPool::run(const std::function<void(int, int)>& job) {
  const int count = n_threads_;
  run_tasks(count, [&](int64_t index) { job(static_cast<int>(index), count); });
}

ThreadPool& ThreadPool::global() {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  if (!g_pool) {
    g_pool = std::make_unique<ThreadPool>(g_requested_threads > 0 ? g_requested_threads
                                                                   : default_thread_count());
  }
  return *g_pool;
}

void ThreadPool::set_global_threads(int n_threads) {
  WICK_CHECK(n_threads >= 1 && n_threads <= 1024, ErrorKind::kInvalidArgument,
             "thread count {} outside [1, 1024]", n_threads);
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  g_requested_threads = n_threads;
  if (g_pool && g_pool->size() != n_threads) g_pool.reset();
}

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  ThreadPool& pool = ThreadPool::global();
  // A few chunks per thread: a thread that is descheduled mid-job holds up one small chunk while
  // the others take the rest.
  constexpr int64_t kChunksPerThread = 4;
  const int64_t max_chunks = (n + grain - 1) / grain;
  const int64_t chunks = std::min<int64_t>(int64_t{pool.size()} * kChunksPerThread, max_chunks);
  if (pool.size() <= 1 || chunks <= 1) {
    fn(0, n);
    return;
  }
  pool.run_tasks(chunks, [&](int64_t chunk) {
    const int64_t begin = n * chunk / chunks;
    const int64_t end = n * (chunk + 1) / chunks;
    if (begin < end) fn(begin, end);
  });
}

}  // namespace wick
