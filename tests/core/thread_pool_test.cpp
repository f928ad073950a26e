// The pool runs every chunk exactly once, on the requested number of workers, many times over.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/thread_pool.h"

namespace wick {
namespace {

TEST(ThreadPool, EveryWorkerRunsEachJob) {
  ThreadPool pool(3);
  for (int rep = 0; rep < 500; ++rep) {
    std::atomic<int> mask{0};
    pool.run([&](int index, int count) {
      EXPECT_EQ(count, 3);
      mask.fetch_or(1 << index);
    });
    ASSERT_EQ(mask.load(), 7);
  }
}

TEST(ThreadPool, ParallelForCoversRangeOnce) {
  ThreadPool::set_global_threads(2);
  for (int64_t n : {1, 2, 7, 1000, 100003}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    parallel_for(n, 16, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
}

TEST(ThreadPool, SingleThreadRunsInline) {
  ThreadPool pool(1);
  int calls = 0;
  pool.run([&](int index, int count) {
    EXPECT_EQ(index, 0);
    EXPECT_EQ(count, 1);
    ++calls;
  });
  EXPECT_EQ(calls, 1);
}

TEST(ThreadPool, RunTasksRunsEachTaskOnceManyTimes) {
  ThreadPool pool(3);
  for (int rep = 0; rep < 2000; ++rep) {
    const int64_t n = 1 + rep % 37;
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.run_tasks(n, [&](int64_t i) { hits[static_cast<size_t>(i)].fetch_add(1); });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1) << "rep " << rep << " n " << n;
  }
}

TEST(ThreadPool, MoreThreadsThanCoresStillFinishesEveryJob) {
  // Oversubscribed on purpose: 16 workers on a machine with fewer cores. Jobs must complete
  // (tasks move to whichever threads run) and cover every task once.
  ThreadPool pool(16);
  std::atomic<int64_t> sum{0};
  for (int rep = 0; rep < 300; ++rep) {
    pool.run_tasks(64, [&](int64_t i) { sum.fetch_add(i + 1); });
  }
  EXPECT_EQ(sum.load(), int64_t{300} * 64 * 65 / 2);
}

TEST(ThreadPool, TaskExceptionReachesTheCallerAfterAllTasksRan) {
  ThreadPool pool(2);
  std::atomic<int> ran{0};
  EXPECT_THROW(pool.run_tasks(16,
                              [&](int64_t i) {
                                ran.fetch_add(1);
                                if (i == 5) throw std::runtime_error("task 5 failed");
                              }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 16);
  // The pool is still usable.
  std::atomic<int> after{0};
  pool.run_tasks(8, [&](int64_t) { after.fetch_add(1); });
  EXPECT_EQ(after.load(), 8);
}

TEST(ThreadPool, NestedParallelForRunsInline) {
  ThreadPool::set_global_threads(2);
  std::vector<std::atomic<int>> hits(64 * 64);
  parallel_for(64, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      parallel_for(64, 1, [&](int64_t b, int64_t e) {
        for (int64_t j = b; j < e; ++j) hits[static_cast<size_t>(i * 64 + j)].fetch_add(1);
      });
    }
  });
  for (auto& h : hits) ASSERT_EQ(h.load(), 1);
}

TEST(ThreadPool, CallersOnSeveralThreadsTakeTurns) {
  ThreadPool::set_global_threads(2);
  ThreadPool::global();  // created before the threads race for it
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      for (int rep = 0; rep < 200; ++rep) {
        parallel_for(100, 1, [&](int64_t b, int64_t e) { total.fetch_add(e - b); });
      }
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(total.load(), 4 * 200 * 100);
}

}  // namespace
}  // namespace wick
