// Automaton: the grammar as a byte-level pushdown automaton, built lazily. A parse position is
// a stack of grammar positions (hash-consed into nodes, so equal stacks share one id); a state
// is the set of stacks still alive after the bytes so far, plus a partial UTF-8 code point.
// States are interned and every (state, byte) transition is memoised, so walking the same
// prefixes again (the token trie, every step) costs one table lookup per byte.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "constrain/grammar.h"

namespace wick::constrain {

class Automaton {
 public:
  static constexpr int32_t kDead = -1;

  explicit Automaton(const Grammar& grammar);

  int32_t initial() const { return initial_; }
  // The state after `byte`, or kDead when no stack can take it.
  int32_t step(int32_t state, uint8_t byte) {
    const int32_t t = trans_[static_cast<size_t>(state) * 256 + byte];
    return t != kUnknown ? t : compute_step(state, byte);
  }
  // The grammar is complete here (some stack is empty and no code point is half read).
  bool accepting(int32_t state) const { return states_[static_cast<size_t>(state)].accept; }
  // Some stack still expects input.
  bool can_continue(int32_t state) const { return states_[static_cast<size_t>(state)].count > 0; }
  // No code point is half read.
  bool on_boundary(int32_t state) const { return states_[static_cast<size_t>(state)].need == 0; }
  size_t num_states() const { return states_.size(); }

  // Bytes on which a state steps back to itself: ASCII bytes as a bitset, and `utf8` when every
  // complete non-ASCII code point (read through any partial states) returns to it too. Inside
  // a JSON string almost every byte loops, which lets the mask skip whole trie subtrees.
  struct Loops {
    uint64_t ascii[2] = {0, 0};
    bool utf8 = false;
    bool any = false;
  };
  const Loops& loops(int32_t state) {
    const size_t i = static_cast<size_t>(state);
    if (loops_known_.size() <= i) {
      loops_known_.resize(states_.size(), 0);
      loops_.resize(states_.size());
    }
    if (!loops_known_[i]) compute_loops(state);
    return loops_[i];
  }

  // Bounded runs: most ASCII bytes (and, with `utf8`, every non-ASCII code point) take a
  // state to one common successor, which does the same, and so on (a counted repetition such
  // as a string with maxLength steps through one state per character). Level h holds the
  // ASCII bytes that every state of the first h steps of that chain sends down the chain, and
  // whether all of them do so for non-ASCII code points: a token of at most h bytes, all in
  // level h, is accepted. Level 0 accepts everything (the empty token).
  static constexpr int kRunLevels = 16;
  static constexpr int kRunMinBytes = 32;  // states allowing fewer ASCII bytes get no run
  struct Run {
    int32_t next = kDead;
    uint8_t known = 0;  // levels filled: 0..known
    uint32_t utf8 = 0;  // bit h: level h holds every non-ASCII code point
    uint64_t ascii[kRunLevels + 1][2] = {};
  };
  // The run of `state` filled to at least `levels` levels (1..kRunLevels). The reference is
  // valid until the next call.
  const Run& run(int32_t state, int levels);

 private:
  static constexpr int32_t kUnknown = -2;
  static constexpr int32_t kRootParent = -1;  // below the root rule: popping here accepts

  struct Node {
    uint32_t pos;    // next element to match, into grammar.elems (never kEnd: see make_node)
    int32_t parent;  // the frame to return to, or kRootParent
  };
  struct State {
    uint32_t begin = 0, count = 0;  // node ids in state_nodes_
    bool accept = false;
    uint32_t cp = 0;   // bits of a partial UTF-8 code point
    uint8_t need = 0;  // continuation bytes still expected
    uint8_t len = 0;   // length of that code point
  };
  struct Expansion {
    std::vector<int32_t> tops;  // nodes whose next element is a char set
    bool accept = false;
  };

  int32_t make_node(uint32_t pos, int32_t parent);
  const Expansion& expand(int32_t node);
  void expand_into(int32_t node, std::vector<int32_t>& tops, bool& accept);
  int32_t intern_state(std::vector<int32_t>& nodes, bool accept, uint32_t cp, uint8_t need,
                       uint8_t len);
  int32_t compute_step(int32_t state, uint8_t byte);
  int32_t advance(int32_t state, uint32_t cp);
  int32_t partial(int32_t state, uint32_t cp, uint8_t need, uint8_t len);
  void compute_loops(int32_t state);

  const Grammar& g_;
  std::vector<Node> nodes_;
  std::unordered_map<uint64_t, int32_t> node_index_;
  std::vector<Expansion> expansions_;
  std::vector<char> expanded_;
  std::vector<State> states_;
  std::vector<int32_t> state_nodes_;
  std::unordered_map<std::string, int32_t> state_index_;
  std::string key_;             // scratch for intern_state
  std::vector<int32_t> trans_;  // 256 per state
  std::vector<Loops> loops_;
  std::vector<uint8_t> loops_known_;
  std::vector<Run> runs_;
  std::vector<int32_t> run_index_;  // per state: into runs_, or -1
  int32_t initial_ = kDead;
};

}  // namespace wick::constrain
