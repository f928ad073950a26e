// The pool runs every chunk exactly once, on the requested number of workers, many times over.
#include <gtest/gtest.h>

#include <atomic>
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

}  // namespace
}  // namespace wick
