// Constraint compilation and the per-sequence Matcher (see constraint.h). The mask walks the
// preorder token trie with the automaton: a dead transition skips the whole subtree, so a step
// costs one cached table lookup per live trie node; masks are cached per automaton state, as
// generation revisits the same states (inside a string, between array items).
#include "constrain/constraint.h"

#include <algorithm>

#include "constrain/json_schema.h"
#include "constrain/regex.h"
#include "core/error.h"

namespace wick::constrain {

namespace {
constexpr size_t kMaxCachedMasks = 2048;
}

const char* spec_kind_name(SpecKind kind) {
  switch (kind) {
    case SpecKind::kGrammar:
      return "grammar";
    case SpecKind::kJsonSchema:
      return "json_schema";
    case SpecKind::kRegex:
      return "regex";
    case SpecKind::kChoice:
      return "choice";
    case SpecKind::kJsonObject:
      return "json_object";
  }
  return "?";
}

std::string spec_to_gbnf(const Spec& spec) {
  switch (spec.kind) {
    case SpecKind::kGrammar:
      return spec.source;
    case SpecKind::kJsonSchema:
      return json_schema_to_gbnf(spec.source);
    case SpecKind::kRegex:
      return regex_to_gbnf(spec.source);
    case SpecKind::kChoice:
      return choices_to_gbnf(spec.choices);
    case SpecKind::kJsonObject:
      return json_object_gbnf();
  }
  return {};
}

Grammar spec_to_grammar(const Spec& spec) {
  const std::string text = spec_to_gbnf(spec);
  try {
    return parse_gbnf(text,
                      spec.kind == SpecKind::kGrammar ? "grammar" : spec_kind_name(spec.kind));
  } catch (const Error& e) {
    throw Error(ErrorKind::kInvalidArgument, e.what());
  }
}

Constraint::Constraint(Grammar grammar, TokenVocab vocab)
    : grammar_(std::move(grammar)),
      vocab_(std::move(vocab)),
      trie_(build_token_trie(vocab_)),
      shared_(std::make_unique<Shared>(grammar_)) {}

std::shared_ptr<const Constraint> compile(const Spec& spec, const tok::Tokenizer& tokenizer,
                                          std::span<const int32_t> eos_ids) {
  Grammar g = spec_to_grammar(spec);
  return std::make_shared<const Constraint>(std::move(g), vocab_from_tokenizer(tokenizer, eos_ids));
}

Matcher::Matcher(std::shared_ptr<const Constraint> constraint)
    : constraint_(std::move(constraint)),
      sh_(constraint_->shared_.get()),
      state_(sh_->automaton.initial()) {}

void Matcher::reset() {
  state_ = sh_->automaton.initial();
  finished_ = false;
}

bool Matcher::accept_bytes(std::string_view bytes) {
  if (finished_) return false;
  std::lock_guard<std::mutex> lock(sh_->mu);
  int32_t s = state_;
  for (char c : bytes) {
    s = sh_->automaton.step(s, static_cast<uint8_t>(c));
    if (s == Automaton::kDead) return false;
  }
  state_ = s;
  return true;
}

bool Matcher::accept_token(int32_t id) {
  const TokenVocab& v = constraint_->vocab();
  if (finished_ || id < 0 || id >= v.size()) return false;
  if (std::find(v.eos_ids.begin(), v.eos_ids.end(), id) != v.eos_ids.end()) {
    if (!is_accepting()) return false;
    finished_ = true;
    return true;
  }
  if (!v.usable[static_cast<size_t>(id)]) return false;
  return accept_bytes(v.bytes[static_cast<size_t>(id)]);
}

void Matcher::allowed_tokens(std::span<uint64_t> bits) {
  const size_t words = constraint_->mask_words();
  WICK_CHECK(bits.size() >= words, ErrorKind::kInvalidArgument,
             "allowed_tokens: mask has {} words, the vocabulary needs {}", bits.size(), words);
  std::fill(bits.begin(), bits.end(), 0);
  if (finished_) return;
  std::lock_guard<std::mutex> lock(sh_->mu);
  auto it = sh_->masks.find(state_);
  if (it == sh_->masks.end()) {
    if (sh_->masks.size() >= kMaxCachedMasks) sh_->masks.clear();
    std::vector<uint64_t> mask(words, 0);
    compute_mask(state_, mask);
    it = sh_->masks.emplace(state_, std::move(mask)).first;
  }
  std::copy(it->second.begin(), it->second.end(), bits.begin());
}

void Matcher::compute_mask(int32_t state, std::vector<uint64_t>& bits) {
  const TokenTrie& t = constraint_->trie();
  const size_t n = t.byte.size();
  sh_->walk.resize(65536);
  sh_->walk[0] = state;
  const uint32_t* tok_begin = t.tok_begin.data();
  const int32_t* ids = t.ids.data();
  // The subtree fast path needs the walk to start on a code point boundary.
  const bool fast = sh_->automaton.on_boundary(state);
  size_t i = 1;
  while (i < n) {
    const int32_t from = sh_->walk[t.depth[i] - 1u];
    if (fast) {
      const Automaton::Loops& l = sh_->automaton.loops(from);
      if (l.any && (t.sub_ascii[2 * i] & ~l.ascii[0]) == 0 &&
          (t.sub_ascii[2 * i + 1] & ~l.ascii[1]) == 0 &&
          (!(t.sub_flags[i] & TokenTrie::kNonAscii) ||
           (l.utf8 && !(t.sub_flags[i] & TokenTrie::kBadUtf8)))) {
        for (uint32_t k = tok_begin[i]; k < tok_begin[t.skip[i]]; ++k)
          bits[static_cast<size_t>(ids[k]) / 64] |= uint64_t{1} << (ids[k] % 64);
        i = t.skip[i];
        continue;
      }
    }
    // A subtree no deeper than the run levels whose bytes all stay on the run of `from`.
    const uint32_t h = t.sub_height[i];
    if (fast && h <= Automaton::kRunLevels) {
      const Automaton::Run& r = sh_->automaton.run(from, static_cast<int>(h));
      if (r.next != Automaton::kDead && (t.sub_ascii[2 * i] & ~r.ascii[h][0]) == 0 &&
          (t.sub_ascii[2 * i + 1] & ~r.ascii[h][1]) == 0 &&
          (!(t.sub_flags[i] & TokenTrie::kNonAscii) ||
           (((r.utf8 >> h) & 1) && !(t.sub_flags[i] & TokenTrie::kBadUtf8)))) {
        for (uint32_t k = tok_begin[i]; k < tok_begin[t.skip[i]]; ++k)
          bits[static_cast<size_t>(ids[k]) / 64] |= uint64_t{1} << (ids[k] % 64);
        i = t.skip[i];
        continue;
      }
    }
    const int32_t next = sh_->automaton.step(from, t.byte[i]);
    if (next == Automaton::kDead) {
      i = t.skip[i];
      continue;
    }
    sh_->walk[t.depth[i]] = next;
    for (uint32_t k = tok_begin[i]; k < tok_begin[i + 1]; ++k)
      bits[static_cast<size_t>(ids[k]) / 64] |= uint64_t{1} << (ids[k] % 64);
    ++i;
  }
  if (sh_->automaton.accepting(state))
    for (int32_t e : constraint_->vocab().eos_ids)
      if (e >= 0 && e < constraint_->vocab().size())
        bits[static_cast<size_t>(e) / 64] |= uint64_t{1} << (e % 64);
}

bool grammar_accepts(const Grammar& grammar, std::string_view text) {
  Automaton a(grammar);
  int32_t s = a.initial();
  for (char c : text) {
    s = a.step(s, static_cast<uint8_t>(c));
    if (s == Automaton::kDead) return false;
  }
  return a.accepting(s);
}

}  // namespace wick::constrain
