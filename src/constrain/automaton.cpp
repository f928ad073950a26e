// Lazily built byte-level pushdown automaton over a Grammar (see automaton.h). Expansion of a
// stack (pushing rules until a char set is on top) is memoised per node; because the parser
// rejected left recursion, expansion always terminates.
#include "constrain/automaton.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "core/error.h"

namespace wick::constrain {

Automaton::Automaton(const Grammar& grammar) : g_(grammar) {
  trans_.reserve(size_t{1024} * 256);
  std::vector<int32_t> tops;
  bool accept = false;
  for (uint32_t alt : g_.rules[g_.root].alts) {
    const int32_t n = make_node(alt, kRootParent);
    expand_into(n, tops, accept);
  }
  initial_ = intern_state(tops, accept, 0, 0, 0);
}

// A node whose next element is the end of its alternative is its parent: returning from a rule
// takes no input, and folding it here keeps right-recursive loops (x*) from growing the stack.
int32_t Automaton::make_node(uint32_t pos, int32_t parent) {
  if (g_.elems[pos].kind == Elem::kEnd) return parent;
  const uint64_t key = (static_cast<uint64_t>(pos) << 32) | static_cast<uint32_t>(parent + 1);
  auto [it, inserted] = node_index_.try_emplace(key, static_cast<int32_t>(nodes_.size()));
  if (inserted) {
    nodes_.push_back({pos, parent});
    expansions_.emplace_back();
    expanded_.push_back(0);
  }
  return it->second;
}

void Automaton::expand_into(int32_t node, std::vector<int32_t>& tops, bool& accept) {
  if (node == kRootParent) {
    accept = true;
    return;
  }
  const size_t i = static_cast<size_t>(node);
  if (expanded_[i] == 1) fail(ErrorKind::kInternal, "grammar expansion cycle at element {}", i);
  if (expanded_[i] == 0) {
    const Node n = nodes_[i];
    const Elem e = g_.elems[n.pos];
    Expansion out;
    if (e.kind == Elem::kChars) {
      out.tops.push_back(node);
    } else {
      expanded_[i] = 1;  // in progress
      const int32_t cont = make_node(n.pos + 1, n.parent);
      for (uint32_t alt : g_.rules[e.index].alts) {
        const int32_t child = make_node(alt, cont);
        expand_into(child, out.tops, out.accept);
      }
      std::sort(out.tops.begin(), out.tops.end());
      out.tops.erase(std::unique(out.tops.begin(), out.tops.end()), out.tops.end());
    }
    expansions_[i] = std::move(out);
    expanded_[i] = 2;
  }
  const Expansion& x = expansions_[i];
  tops.insert(tops.end(), x.tops.begin(), x.tops.end());
  accept |= x.accept;
}

int32_t Automaton::intern_state(std::vector<int32_t>& nodes, bool accept, uint32_t cp, uint8_t need,
                                uint8_t len) {
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  if (nodes.empty() && !accept) return kDead;
  if (need > 0) accept = false;
  std::string& key = key_;  // reused: most lookups find an existing state
  key.assign(nodes.size() * sizeof(int32_t) + 7, '\0');
  if (!nodes.empty()) std::memcpy(key.data(), nodes.data(), nodes.size() * sizeof(int32_t));
  char* tail = key.data() + nodes.size() * sizeof(int32_t);
  std::memcpy(tail, &cp, 4);
  tail[4] = static_cast<char>(need);
  tail[5] = static_cast<char>(len);
  tail[6] = static_cast<char>(accept);
  if (auto found = state_index_.find(key); found != state_index_.end()) return found->second;
  auto [it, inserted] = state_index_.try_emplace(key, static_cast<int32_t>(states_.size()));
  if (inserted) {
    State s;
    s.begin = static_cast<uint32_t>(state_nodes_.size());
    s.count = static_cast<uint32_t>(nodes.size());
    s.accept = accept;
    s.cp = cp;
    s.need = need;
    s.len = len;
    state_nodes_.insert(state_nodes_.end(), nodes.begin(), nodes.end());
    states_.push_back(s);
    trans_.resize(trans_.size() + 256, kUnknown);
  }
  return it->second;
}

int32_t Automaton::compute_step(int32_t state, uint8_t byte) {
  const State s = states_[static_cast<size_t>(state)];
  int32_t next = kDead;
  if (s.need == 0) {
    if (byte < 0x80)
      next = advance(state, byte);
    else if (byte >= 0xC2 && byte <= 0xDF)
      next = partial(state, byte & 0x1Fu, 1, 2);
    else if (byte >= 0xE0 && byte <= 0xEF)
      next = partial(state, byte & 0x0Fu, 2, 3);
    else if (byte >= 0xF0 && byte <= 0xF4)
      next = partial(state, byte & 0x07u, 3, 4);
  } else if ((byte & 0xC0) == 0x80) {
    const uint32_t cp = (s.cp << 6) | (byte & 0x3Fu);
    if (s.need > 1) {
      next = partial(state, cp, static_cast<uint8_t>(s.need - 1), s.len);
    } else {
      static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
      if (cp >= kMin[s.len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF))
        next = advance(state, cp);
    }
  }
  trans_[static_cast<size_t>(state) * 256 + byte] = next;
  return next;
}

// A complete code point: every stack whose char set takes it moves on and is re-expanded.
int32_t Automaton::advance(int32_t state, uint32_t cp) {
  const State s = states_[static_cast<size_t>(state)];
  std::vector<int32_t> tops;
  bool accept = false;
  for (uint32_t k = 0; k < s.count; ++k) {
    const int32_t node = state_nodes_[s.begin + k];
    const Node n = nodes_[static_cast<size_t>(node)];
    if (!g_.charsets[g_.elems[n.pos].index].contains(cp)) continue;
    expand_into(make_node(n.pos + 1, n.parent), tops, accept);
  }
  return intern_state(tops, accept, 0, 0, 0);
}

// Part of a multi-byte code point: keep the stacks whose char set meets the code points that
// still start with these bits, so dead ends are cut at the first byte.
int32_t Automaton::partial(int32_t state, uint32_t cp, uint8_t need, uint8_t len) {
  const State s = states_[static_cast<size_t>(state)];
  const uint32_t shift = 6u * need;
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  const uint32_t lo = std::max(cp << shift, kMin[len]);
  const uint32_t hi = std::min<uint32_t>(lo | ((1u << shift) - 1), 0x10FFFF);
  std::vector<int32_t> keep;
  for (uint32_t k = 0; k < s.count; ++k) {
    const int32_t node = state_nodes_[s.begin + k];
    if (lo <= hi &&
        g_.charsets[g_.elems[nodes_[static_cast<size_t>(node)].pos].index].intersects(lo, hi))
      keep.push_back(node);
  }
  if (keep.empty()) return kDead;
  return intern_state(keep, false, cp, need, len);
}

}  // namespace wick::constrain

namespace wick::constrain {

void Automaton::compute_loops(int32_t state) {
  Loops l;
  const State s0 = states_[static_cast<size_t>(state)];
  if (s0.need == 0) {
    for (uint32_t b = 0; b < 128; ++b)
      if (step(state, static_cast<uint8_t>(b)) == state) l.ascii[b / 64] |= uint64_t{1} << (b % 64);
    // When every stack takes either all non-ASCII code points or none, each such code point
    // leads to the same state: check that it is this one with U+00E9.
    const State s = states_[static_cast<size_t>(state)];
    bool some = false, all_or_none = true;
    for (uint32_t k = 0; all_or_none && k < s.count; ++k) {
      const Node n = nodes_[static_cast<size_t>(state_nodes_[s.begin + k])];
      const CharSet& cs = g_.charsets[g_.elems[n.pos].index];
      const bool covers = cs.covers(0x80, 0x10FFFF);
      some |= covers;
      all_or_none = covers || !cs.intersects(0x80, 0x10FFFF);
    }
    if (some && all_or_none) {
      const int32_t mid = step(state, 0xC3);
      l.utf8 = mid != kDead && step(mid, 0xA9) == state;
    }
    l.any = l.ascii[0] || l.ascii[1] || l.utf8;
  }
  const size_t i = static_cast<size_t>(state);
  if (loops_.size() <= i) {
    loops_known_.resize(i + 1, 0);
    loops_.resize(i + 1);
  }
  loops_[i] = l;
  loops_known_[i] = 1;
}

const Automaton::Run& Automaton::run(int32_t state, int levels) {
  const size_t i = static_cast<size_t>(state);
  if (run_index_.size() <= i) run_index_.resize(states_.size(), -1);
  if (run_index_[i] < 0) {
    Run r;
    r.ascii[0][0] = r.ascii[0][1] = ~uint64_t{0};
    r.utf8 = 1;
    // Runs only pay off where many bytes are allowed (string bodies); elsewhere stepping every
    // byte would build states no token needs.
    uint64_t wide[2] = {0, 0};
    for (uint32_t k = 0; k < states_[i].count; ++k) {
      const Node n = nodes_[static_cast<size_t>(state_nodes_[states_[i].begin + k])];
      const CharSet& cs = g_.charsets[g_.elems[n.pos].index];
      wide[0] |= cs.ascii[0];
      wide[1] |= cs.ascii[1];
    }
    if (states_[i].need == 0 && std::popcount(wide[0]) + std::popcount(wide[1]) >= kRunMinBytes) {
      // The successor most ASCII bytes lead to.
      int32_t to[128];
      for (uint32_t b = 0; b < 128; ++b) to[b] = step(state, static_cast<uint8_t>(b));
      int best = 0;
      for (uint32_t b = 0; b < 128; ++b) {
        if (to[b] == kDead || to[b] == r.next) continue;
        int count = 0;
        for (uint32_t c = b; c < 128; ++c) count += to[c] == to[b];
        if (count > best) {
          best = count;
          r.next = to[b];
        }
      }
      for (uint32_t b = 0; b < 128; ++b)
        if (r.next != kDead && to[b] == r.next) r.ascii[1][b / 64] |= uint64_t{1} << (b % 64);
      // Non-ASCII code points: as in compute_loops, every stack takes all or none of them, and
      // U+00E9 leads to the same successor.
      const State s = states_[i];
      bool some = false, all_or_none = true;
      for (uint32_t k = 0; all_or_none && k < s.count; ++k) {
        const Node n = nodes_[static_cast<size_t>(state_nodes_[s.begin + k])];
        const CharSet& cs = g_.charsets[g_.elems[n.pos].index];
        const bool covers = cs.covers(0x80, 0x10FFFF);
        some |= covers;
        all_or_none = covers || !cs.intersects(0x80, 0x10FFFF);
      }
      if (r.next != kDead && some && all_or_none) {
        const int32_t mid = step(state, 0xC3);
        if (mid != kDead && step(mid, 0xA9) == r.next) r.utf8 |= 2;
      }
    }
    r.known = 1;
    run_index_[i] = static_cast<int32_t>(runs_.size());
    runs_.push_back(r);
  }
  const size_t ri = static_cast<size_t>(run_index_[i]);
  if (runs_[ri].known < levels) {
    const int32_t next = runs_[ri].next;
    if (next == state) {  // a loop: every level is level 1
      Run& r = runs_[ri];
      for (int h = 2; h <= kRunLevels; ++h) {
        r.ascii[h][0] = r.ascii[1][0];
        r.ascii[h][1] = r.ascii[1][1];
        if (r.utf8 & 2) r.utf8 |= uint32_t{1} << h;
      }
      r.known = kRunLevels;
    } else if (next != kDead) {
      const Run& nr = run(next, levels - 1);  // may reallocate runs_
      Run& r = runs_[ri];
      for (int h = r.known + 1; h <= levels; ++h) {
        r.ascii[h][0] = r.ascii[1][0] & nr.ascii[h - 1][0];
        r.ascii[h][1] = r.ascii[1][1] & nr.ascii[h - 1][1];
        if ((r.utf8 & 2) && ((nr.utf8 >> (h - 1)) & 1)) r.utf8 |= uint32_t{1} << h;
      }
      r.known = static_cast<uint8_t>(levels);
    } else {
      runs_[ri].known = kRunLevels;  // nothing runs on: levels above 1 stay empty
    }
  }
  return runs_[ri];
}

}  // namespace wick::constrain
