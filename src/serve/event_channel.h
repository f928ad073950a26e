// EventChannel: the thread-safe handoff of engine events to the connection thread that serves
// the request. The engine thread pushes (never blocks for long); the connection waits with a
// timeout so it can also watch its socket and deadlines.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "serve/engine.h"

namespace wick::serve {

class EventChannel {
 public:
  void push(Event ev) {
    {
      std::lock_guard lock(mu_);
      events_.push_back(std::move(ev));
    }
    cv_.notify_one();
  }
  // Every event queued so far; empty when none came within `timeout`.
  std::vector<Event> wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return !events_.empty(); });
    std::vector<Event> out;
    out.swap(events_);
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
};

}  // namespace wick::serve
