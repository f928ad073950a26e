// StopStringFilter: holds back streamed text that could still grow into a stop string, and cuts
// the text right before one when it appears. Shared by the single-sequence Generator and the
// server's batched engine, so both stop (and stream) at exactly the same characters.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wick::gen {

class StopStringFilter {
 public:
  explicit StopStringFilter(std::vector<std::string> stops) : stops_(std::move(stops)) {}

  // Adds `delta`; returns the text now safe to emit; sets `hit` when a stop string appeared
  // (the returned text then ends right before it).
  std::string push(std::string_view delta, bool& hit) {
    pending_ += delta;
    for (const std::string& s : stops_) {
      if (s.empty()) continue;
      const size_t at = pending_.find(s);
      if (at != std::string::npos) {
        hit = true;
        std::string out = pending_.substr(0, at);
        pending_.clear();
        return out;
      }
    }
    const size_t keep = held_back();
    std::string out = pending_.substr(0, pending_.size() - keep);
    pending_.erase(0, pending_.size() - keep);
    return out;
  }
  // The held-back text, when generation ends for another reason.
  std::string flush() { return std::exchange(pending_, {}); }

 private:
  // Length of the longest suffix of pending_ that is a proper prefix of a stop string.
  size_t held_back() const {
    size_t best = 0;
    for (const std::string& s : stops_) {
      if (s.empty()) continue;
      for (size_t n = std::min(s.size() - 1, pending_.size()); n > best; --n)
        if (pending_.compare(pending_.size() - n, n, s, 0, n) == 0) {
          best = n;
          break;
        }
    }
    return best;
  }
  std::vector<std::string> stops_;
  std::string pending_;
};

}  // namespace wick::gen
