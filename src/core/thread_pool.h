// A fixed pool of worker threads for data-parallel kernels. A job is a number of tasks; the
// caller and the workers claim tasks from one atomic counter until none are left, so a worker the
// OS has descheduled (more threads than free cores) delays only the task it holds, never the rest
// of the job. Workers spin briefly after a job (decode issues many small ops back to back) and
// then sleep on a futex (std::atomic::wait).
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
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

  // Runs task(i) for every i in [0, n_tasks) exactly once, spread over the caller and the
  // workers in no fixed assignment, and returns when all have finished. Tasks must not depend on
  // running at the same time as each other (no barriers) or on which thread runs them. If tasks
  // throw, the other tasks still run and the first exception is rethrown here.
  // Callers on several threads take turns; a task that calls run_tasks again (on any pool) runs
  // the inner tasks inline on its own thread.
  void run_tasks(int64_t n_tasks, const std::function<void(int64_t)>& task);

  // Runs job(index, size()) for every index in [0, size()): run_tasks with one task per thread.
  void run(const std::function<void(int, int)>& job);

  // The process-wide pool used by CPU kernels. Sized by set_global_threads(), else the
  // WICK_THREADS environment variable, else the number of online CPUs.
  static ThreadPool& global();
  static void set_global_threads(int n_threads);

 private:
  void worker_loop();
  void claim_and_run();  // runs tasks of the current job until every task is claimed

  int n_threads_;
  std::vector<std::thread> workers_;
  // (job generation << 32) | next unclaimed task. Only run_tasks changes the generation; a claim
  // is a compare-exchange on the whole word, so a thread that read an older job's state can
  // never claim a task of a newer one.
  std::atomic<uint64_t> state_{0};
  std::atomic<const std::function<void(int64_t)>*> task_{nullptr};
  std::atomic<int64_t> n_tasks_{0};
  std::atomic<int32_t> done_{0};     // tasks of the current job that have finished
  std::atomic<uint32_t> wake_{0};    // bumped per job; sleeping workers wait for a change
  std::atomic<bool> stop_{false};
  std::mutex run_mutex_;
  std::mutex error_mutex_;
  std::exception_ptr error_;  // the first exception a task of the current job threw
};

// Splits [0, n) into contiguous chunks of at least `grain` items (a few per worker, so work
// moves to whichever threads are running) and calls fn(begin, end) for each. The chunk bounds
// depend only on n, grain and the pool size. Runs inline when one chunk suffices.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace wick
