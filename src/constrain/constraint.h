// The constrained-decoding API. A Spec (grammar, JSON Schema, regex, choices, any JSON object)
// compiles once per tokenizer into a Constraint: the grammar plus the vocabulary's byte trie,
// immutable and shareable across sequences and threads. Each sequence owns a Matcher: it
// advances over accepted tokens and computes the allowed-token bitset for the next step (bit i
// of word i / 64 set = token i allowed; EOS ids only where the grammar can end).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "constrain/automaton.h"
#include "constrain/grammar.h"
#include "constrain/vocab.h"

namespace wick::tok {
class Tokenizer;
}

namespace wick::constrain {

enum class SpecKind { kGrammar, kJsonSchema, kRegex, kChoice, kJsonObject };
const char* spec_kind_name(SpecKind kind);

struct Spec {
  SpecKind kind = SpecKind::kGrammar;
  std::string source;                // GBNF text, schema JSON text or regex
  std::vector<std::string> choices;  // kChoice
};

// The spec as GBNF text (errors: Error(kInvalidArgument) naming the problem).
std::string spec_to_gbnf(const Spec& spec);
Grammar spec_to_grammar(const Spec& spec);

class Constraint {
 public:
  Constraint(Grammar grammar, TokenVocab vocab);
  Constraint(const Constraint&) = delete;  // the automaton points into grammar_
  Constraint& operator=(const Constraint&) = delete;
  const Grammar& grammar() const { return grammar_; }
  const TokenVocab& vocab() const { return vocab_; }
  const TokenTrie& trie() const { return trie_; }
  size_t mask_words() const { return (static_cast<size_t>(vocab_.size()) + 63) / 64; }

 private:
  friend class Matcher;
  // The automaton and the masks of its states, shared by every Matcher of this constraint so
  // that later sequences (other seeds, other requests with the same schema) find them built.
  // Matchers take the lock for each call.
  struct Shared {
    explicit Shared(const Grammar& g) : automaton(g) {}
    std::mutex mu;
    Automaton automaton;
    std::unordered_map<int32_t, std::vector<uint64_t>> masks;
    std::vector<int32_t> walk;  // state per trie depth during a mask walk
  };

  Grammar grammar_;
  TokenVocab vocab_;
  TokenTrie trie_;
  std::unique_ptr<Shared> shared_;
};

// Compiles `spec` against the tokenizer's vocabulary; eos_ids end generation (allowed exactly
// where the grammar accepts). Throws Error(kInvalidArgument) before any generation.
std::shared_ptr<const Constraint> compile(const Spec& spec, const tok::Tokenizer& tokenizer,
                                          std::span<const int32_t> eos_ids);

class Matcher {
 public:
  explicit Matcher(std::shared_ptr<const Constraint> constraint);

  // bits: at least constraint.mask_words() words; all of them are overwritten.
  void allowed_tokens(std::span<uint64_t> bits);
  // Advances over the token; false (state unchanged) when the grammar does not allow it. An
  // EOS id is accepted exactly when is_accepting(), and finishes the matcher.
  bool accept_token(int32_t id);
  // Advances over raw bytes (all or nothing).
  bool accept_bytes(std::string_view bytes);
  bool is_accepting() const {
    std::lock_guard<std::mutex> lock(sh_->mu);
    return sh_->automaton.accepting(state_);
  }
  // Some input may still follow (false: the grammar is complete, only EOS remains).
  bool can_continue() const {
    std::lock_guard<std::mutex> lock(sh_->mu);
    return sh_->automaton.can_continue(state_);
  }
  bool is_finished() const { return finished_; }
  void reset();
  const Constraint& constraint() const { return *constraint_; }

 private:
  void compute_mask(int32_t state, std::vector<uint64_t>& bits);

  std::shared_ptr<const Constraint> constraint_;
  Constraint::Shared* sh_;
  int32_t state_;
  bool finished_ = false;
};

// True when the whole of `text` is a sentence of the grammar (tests, debugging).
bool grammar_accepts(const Grammar& grammar, std::string_view text);

}  // namespace wick::constrain
