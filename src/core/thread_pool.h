// A fixed pool of worker threads for data-parallel kernels. The caller runs as worker 0, so a
// 1-thread pool has no extra threads and no synchronisation. Workers spin briefly after a job
// (decode issues many small ops back to back) and then sleep on a futex (std::atomic::wait).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace wick {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs job(worker_index, n_workers) on every worker, the caller as worker 0, and returns when
  // all have finished. Not re-entrant: a job must not call run() on the same pool.
  void run(const std::function<void(int, int)>& job);

  // The process-wide pool used by CPU kernels. Sized by set_global_threads(), else the
  // WICK_THREADS environment variable, else the number of online CPUs.
  static ThreadPool& global();
  static void set_global_threads(int n_threads);

 private:
  void worker_loop(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint32_t> generation_{0};  // bumped per job; workers wait for a change
  std::atomic<int> pending_{0};          // workers still running the current job
  std::atomic<bool> stop_{false};
};

// Splits [0, n) into contiguous chunks of at least `grain` items, one or more per worker, and
// calls fn(begin, end) for each. Runs inline when one chunk suffices.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace wick
