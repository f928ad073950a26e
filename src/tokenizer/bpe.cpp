// Byte-pair encoding: split a piece into characters (or byte-fallback / unk tokens), then apply
// the lowest-ranked merge present anywhere in the word until none applies. Ties go to the
// leftmost pair, as in HF tokenizers; the result is the same as the textbook "repeat the best
// merge" loop, in O(n log n) with a heap over a linked list of symbols.
// Merge ranks come from an explicit list (tokenizer.json, GGUF merges), held in a flat pair ->
// rule table, or are derived on the fly from SentencePiece scores (GGUF without merges).
#include <bit>
#include <queue>

#include "tokenizer/model.h"
#include "tokenizer/utf8.h"

namespace wick::tok {
namespace {

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

// Merge priority, smaller first: (rank, 0) for a merge list; for scores, see score_rule().
struct Priority {
  uint64_t major, minor;
  auto operator<=>(const Priority&) const = default;
};

struct MergeRule {
  Priority priority;
  int32_t new_id;
};

struct RankedMerge {
  uint32_t rank;
  int32_t new_id;
};

// (left id, right id) -> rank and merged id. Open addressing with linear probing, load <= 1/2:
// 515k Gemma merges would otherwise be 515k heap nodes to build and free.
class PairMap {
 public:
  void reserve(size_t n) {
    size_t capacity = 16;
    while (capacity < 2 * n) capacity *= 2;
    if (capacity <= slots_.size()) return;
    std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(capacity));
    shift_ = 64 - std::countr_zero(capacity);
    for (const Slot& s : old)
      if (s.key != kEmpty) slots_[index(s.key)] = s;
  }
  // A later rule for the same pair replaces the earlier one, as in HF (a map built in order).
  void insert_or_assign(uint64_t key, const RankedMerge& rule) {
    if (2 * (size_ + 1) > slots_.size()) reserve(std::max<size_t>(16, slots_.size()));
    const size_t i = index(key);
    if (slots_[i].key == kEmpty) ++size_;
    slots_[i] = {key, rule};
  }
  const RankedMerge* find(uint64_t key) const {
    if (slots_.empty()) return nullptr;
    const Slot& s = slots_[index(key)];
    return s.key == key ? &s.rule : nullptr;
  }
  void prefetch(uint64_t key) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[home(key)]);
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // (-1, -1): ids are never negative
  struct Slot {
    uint64_t key = kEmpty;
    RankedMerge rule{};
  };
  size_t home(uint64_t key) const { return (key * 0x9E3779B97F4A7C15ull) >> shift_; }
  // The slot holding `key`, or the empty one where it goes.
  size_t index(uint64_t key) const {
    const size_t mask = slots_.size() - 1;
    size_t i = home(key);
    while (slots_[i].key != key && slots_[i].key != kEmpty) i = (i + 1) & mask;
    return i;
  }
  std::vector<Slot> slots_;
  size_t size_ = 0;
  int shift_ = 64;
};

struct Symbol {
  int32_t id;
  int32_t prev, next;  // neighbours in the word, -1 at the ends
  bool alive;
};

struct Candidate {
  Priority priority;
  int32_t pos;  // index of the left symbol
  int32_t new_id;
  bool operator>(const Candidate& o) const {
    return priority != o.priority ? priority > o.priority : pos > o.pos;
  }
};
using CandidateQueue = std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>>;

class Bpe : public Model {
 public:
  Bpe(const Json& j, Vocab vocab);
  void set_merges(std::span<const MergeText> merges);
  void set_scores(std::vector<float> scores);
  void tokenize(std::string_view piece, std::vector<int32_t>& out) const override;

 private:
  std::vector<Symbol> initial_symbols(std::string_view piece) const;
  std::optional<MergeRule> rule(int32_t left, int32_t right, std::string& scratch) const;
  std::optional<MergeRule> score_rule(int32_t left, int32_t right, std::string& scratch) const;
  bool makes(int32_t left, int32_t right, int32_t merged, std::string& scratch) const;
  void push_pair(const std::vector<Symbol>& w, int32_t pos, CandidateQueue& q,
                 std::string& scratch) const;

  PairMap merges_;
  std::vector<float> scores_;  // by id; non-empty: merges come from scores, merges_ is unused
  std::optional<int32_t> unk_id_;
  std::string prefix_;  // continuing_subword_prefix
  std::string suffix_;  // end_of_word_suffix
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::vector<int32_t> byte_ids_;
};

Bpe::Bpe(const Json& j, Vocab vocab) {
  vocab_ = std::move(vocab);
  const std::string unk = json_string_or(j, "unk_token", "", "model");
  if (!unk.empty()) {
    unk_id_ = vocab_.find(unk);
    if (!unk_id_)
      fail(ErrorKind::kParse, "tokenizer.json: model.unk_token '{}' is not in the vocab", unk);
  }
  prefix_ = json_string_or(j, "continuing_subword_prefix", "", "model");
  suffix_ = json_string_or(j, "end_of_word_suffix", "", "model");
  fuse_unk_ = json_bool_or(j, "fuse_unk", false, "model");
  byte_fallback_ = json_bool_or(j, "byte_fallback", false, "model");
  ignore_merges_ = json_bool_or(j, "ignore_merges", false, "model");
  const auto dropout = j.find("dropout");
  if (dropout != j.end() && dropout->is_number() && dropout->get<double>() > 0.0)
    fail(ErrorKind::kUnsupported, "tokenizer.json: model.dropout: BPE dropout is not supported");
  if (byte_fallback_) byte_ids_ = byte_fallback_ids(vocab_);
}

// Resolves merges in chunks so that the ~3 vocab lookups and the pair-table insert of each can
// be batched (Vocab::find_many): at 1.5M lookups, waiting on each cache miss in turn dominates.
void Bpe::set_merges(std::span<const MergeText> merges) {
  constexpr size_t kChunk = 256;
  merges_.reserve(merges.size());
  std::string joined;  // a + b (without b's continuing-subword prefix) for the whole chunk
  std::vector<std::string_view> keys;
  std::vector<int32_t> ids(3 * kChunk);
  uint64_t pairs[kChunk];
  for (size_t begin = 0; begin < merges.size(); begin += kChunk) {
    const auto chunk = merges.subspan(begin, std::min(kChunk, merges.size() - begin));
    // The merged token drops the right side's continuing-subword prefix ("un" + "##do" = "undo").
    const auto right = [this](std::string_view b) {
      return !prefix_.empty() && b.starts_with(prefix_) ? b.substr(prefix_.size()) : b;
    };
    size_t bytes = 0;
    for (const auto& [a, b] : chunk) bytes += a.size() + right(b).size();
    joined.clear();
    joined.reserve(bytes);  // no reallocation below: `keys` views it
    keys.clear();
    for (const auto& [a, b] : chunk) {
      const size_t at = joined.size();
      joined.append(a);
      joined.append(right(b));
      keys.insert(keys.end(), {a, b, std::string_view(joined).substr(at)});
    }
    vocab_.find_many(keys, std::span(ids).first(keys.size()));
    for (size_t k = 0; k < chunk.size(); ++k) {
      const size_t rank = begin + k;
      const int32_t id_a = ids[3 * k], id_b = ids[3 * k + 1], merged = ids[3 * k + 2];
      if (id_a < 0 || id_b < 0)
        fail(ErrorKind::kParse, "tokenizer.json: model.merges[{}]: '{}' is not in the vocab", rank,
             id_a >= 0 ? chunk[k].right : chunk[k].left);
      if (merged < 0)
        fail(ErrorKind::kParse,
             "tokenizer.json: model.merges[{}]: merged token '{}' is not in the vocab", rank,
             keys[3 * k + 2]);
      pairs[k] = pair_key(id_a, id_b);
      merges_.prefetch(pairs[k]);
    }
    for (size_t k = 0; k < chunk.size(); ++k)  // in order: a later duplicate wins
      merges_.insert_or_assign(pairs[k], {static_cast<uint32_t>(begin + k), ids[3 * k + 2]});
  }
}

void Bpe::set_scores(std::vector<float> scores) {
  if (scores.size() < static_cast<size_t>(vocab_.id_limit()))
    fail(ErrorKind::kParse, "BPE scores: {} scores for {} ids", scores.size(), vocab_.id_limit());
  scores_ = std::move(scores);
}

// HF's SentencePiece converter makes every split of a token into two tokens a merge, ranked by
// the merged token's score (higher first), then longer left piece, longer right piece, smaller
// merged id. Deriving that rank per pair here, from the concatenation, gives the same order as
// sorting the ~500k merges at load without doing so.
std::optional<MergeRule> Bpe::score_rule(int32_t left, int32_t right, std::string& scratch) const {
  const auto a = vocab_.token(left), b = vocab_.token(right);
  if (!a || !b || b->empty() || (static_cast<uint8_t>(b->front()) & 0xC0) == 0x80) return {};
  scratch.assign(*a);
  scratch.append(*b);
  const auto merged = vocab_.find(scratch);
  if (!merged) return {};
  float score = scores_[*merged];
  if (score == 0.0f) score = 0.0f;  // -0 ranks as 0
  const uint32_t bits = std::bit_cast<uint32_t>(score);
  const uint32_t ascending = bits & 0x80000000u ? ~bits : bits | 0x80000000u;
  const uint64_t major = (uint64_t{~ascending} << 32) | (UINT32_MAX - a->size());
  const uint64_t minor = (uint64_t{UINT32_MAX - static_cast<uint32_t>(b->size())} << 32) |
                         static_cast<uint32_t>(*merged);
  return MergeRule{{major, minor}, *merged};
}

// Whether the pair (left, right) merges into `merged`. With scores, that is whether the two
// strings spell `merged`'s: a compare, no hashing. Exact because `merged` came from a lookup and
// score vocabularies (GGUF) give every id one string, so find(token(merged)) == merged.
bool Bpe::makes(int32_t left, int32_t right, int32_t merged, std::string& scratch) const {
  if (scores_.empty()) {
    const auto r = rule(left, right, scratch);
    return r && r->new_id == merged;
  }
  const auto a = vocab_.token(left), b = vocab_.token(right), m = vocab_.token(merged);
  if (!a || !b || !m || b->empty() || (static_cast<uint8_t>(b->front()) & 0xC0) == 0x80)
    return false;
  return a->size() + b->size() == m->size() && m->starts_with(*a) && m->ends_with(*b);
}

std::optional<MergeRule> Bpe::rule(int32_t left, int32_t right, std::string& scratch) const {
  if (!scores_.empty()) return score_rule(left, right, scratch);
  if (const RankedMerge* r = merges_.find(pair_key(left, right)))
    return MergeRule{{r->rank, 0}, r->new_id};
  return {};
}

// One symbol per character; characters missing from the vocab become byte tokens (byte
// fallback) or the unk token (fused when fuse_unk), or are dropped when neither exists.
std::vector<Symbol> Bpe::initial_symbols(std::string_view piece) const {
  std::vector<Symbol> w;
  w.reserve(piece.size());
  const auto add = [&w](int32_t id) {
    const auto n = static_cast<int32_t>(w.size());
    w.push_back({id, n - 1, -1, true});
    if (n > 0) w[n - 1].next = n;
  };
  int32_t pending_unk = -1;  // unk waiting to be emitted (fused with following unks)
  std::string key;
  size_t i = 0;
  while (i < piece.size()) {
    const size_t begin = i;
    utf8_next(piece, i);
    key.assign(begin > 0 ? prefix_ : std::string());
    key.append(piece.substr(begin, i - begin));
    if (i == piece.size()) key += suffix_;
    if (const auto id = vocab_.find(key)) {
      if (pending_unk >= 0) add(pending_unk);
      pending_unk = -1;
      add(*id);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (const char c : key) all = all && byte_ids_[static_cast<uint8_t>(c)] >= 0;
      if (all) {
        for (const char c : key) add(byte_ids_[static_cast<uint8_t>(c)]);
        continue;
      }
    }
    if (unk_id_) {
      if (pending_unk >= 0 && !fuse_unk_) add(pending_unk);
      pending_unk = *unk_id_;
    }
  }
  if (pending_unk >= 0) add(pending_unk);
  return w;
}

void Bpe::push_pair(const std::vector<Symbol>& w, int32_t pos, CandidateQueue& q,
                    std::string& scratch) const {
  const int32_t next = w[pos].next;
  if (next < 0) return;
  if (const auto r = rule(w[pos].id, w[next].id, scratch)) q.push({r->priority, pos, r->new_id});
}

void Bpe::tokenize(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    if (const auto id = vocab_.find(piece)) {
      out.push_back(*id);
      return;
    }
  }
  std::vector<Symbol> w = initial_symbols(piece);
  std::string scratch;
  CandidateQueue q;
  for (int32_t pos = 0; pos + 1 < static_cast<int32_t>(w.size()); ++pos)
    push_pair(w, pos, q, scratch);
  while (!q.empty()) {
    const Candidate top = q.top();
    q.pop();
    Symbol& left = w[top.pos];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = w[left.next];
    // Stale entry: the pair at this position no longer makes the same token (HF's check).
    if (!makes(left.id, right.id, top.new_id, scratch)) continue;
    left.id = top.new_id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) w[right.next].prev = top.pos;
    if (left.prev >= 0) push_pair(w, left.prev, q, scratch);
    push_pair(w, top.pos, q, scratch);
  }
  for (const Symbol& s : w)
    if (s.alive) out.push_back(s.id);
}

// model.merges from the DOM: "a b" strings or [a, b] pairs (views into `merges`).
std::vector<MergeText> merges_from_json(const Json& merges) {
  std::vector<MergeText> out;
  out.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const Json& m = merges[rank];
    if (m.is_string()) {
      const auto split = split_merge(m.get_ref<const std::string&>());
      if (!split)
        fail(ErrorKind::kParse, "tokenizer.json: model.merges[{}] '{}' is not two tokens", rank,
             m.get_ref<const std::string&>());
      out.push_back(*split);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      out.push_back({m[0].get_ref<const std::string&>(), m[1].get_ref<const std::string&>()});
    } else {
      fail(ErrorKind::kParse, "tokenizer.json: model.merges[{}] is neither \"a b\" nor [a, b]",
           rank);
    }
  }
  return out;
}

}  // namespace

std::optional<MergeText> split_merge(std::string_view s) {
  const size_t space = s.find(' ');
  if (space == std::string_view::npos || s.find(' ', space + 1) != std::string_view::npos)
    return std::nullopt;
  return MergeText{s.substr(0, space), s.substr(space + 1)};
}

std::unique_ptr<Model> make_bpe_model(const Json& j, ModelTables* tables) {
  Vocab vocab;
  if (tables != nullptr && tables->vocab)
    vocab = std::move(*tables->vocab);
  else
    read_vocab_object(json_field(j, "vocab", "model"), vocab, "model.vocab");
  auto bpe = std::make_unique<Bpe>(j, std::move(vocab));
  if (tables != nullptr && tables->scores)
    bpe->set_scores(std::move(*tables->scores));
  else if (tables != nullptr && tables->merges)
    bpe->set_merges(*tables->merges);
  else
    bpe->set_merges(merges_from_json(json_array(j, "merges", "model")));
  return bpe;
}

}  // namespace wick::tok
