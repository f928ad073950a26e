// Byte-pair encoding: split a piece into characters (or byte-fallback / unk tokens), then apply
// the lowest-ranked merge present anywhere in the word until none applies. Ties go to the
// leftmost pair, as in HF tokenizers; the result is the same as the textbook "repeat the best
// merge" loop, in O(n log n) with a heap over a linked list of symbols.
#include <queue>

#include "tokenizer/model.h"
#include "tokenizer/utf8.h"

namespace wick::tok {
namespace {

struct MergeRule {
  uint32_t rank;
  int32_t new_id;
};

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

struct Symbol {
  int32_t id;
  int32_t prev, next;  // neighbours in the word, -1 at the ends
  bool alive;
};

struct Candidate {
  uint32_t rank;
  int32_t pos;  // index of the left symbol
  int32_t new_id;
  bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

class Bpe : public Model {
 public:
  explicit Bpe(const Json& j);
  void tokenize(std::string_view piece, std::vector<int32_t>& out) const override;

 private:
  void read_merges(const Json& merges);
  std::vector<Symbol> initial_symbols(std::string_view piece) const;
  void push_pair(const std::vector<Symbol>& w, int32_t pos,
                 std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>>& q) const;

  std::unordered_map<uint64_t, MergeRule> merges_;
  std::optional<int32_t> unk_id_;
  std::string prefix_;  // continuing_subword_prefix
  std::string suffix_;  // end_of_word_suffix
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::vector<int32_t> byte_ids_;
};

Bpe::Bpe(const Json& j) {
  read_vocab_object(json_field(j, "vocab", "model"), vocab_, "model.vocab");
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
  read_merges(json_array(j, "merges", "model"));
}

void Bpe::read_merges(const Json& merges) {
  merges_.reserve(merges.size());
  std::string joined;  // reused: a + b without the continuing-subword prefix
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const Json& m = merges[rank];
    std::string_view a, b;
    if (m.is_string()) {  // "a b"
      const std::string_view s = m.get_ref<const std::string&>();
      const size_t space = s.find(' ');
      if (space == std::string_view::npos || s.find(' ', space + 1) != std::string_view::npos)
        fail(ErrorKind::kParse, "tokenizer.json: model.merges[{}] '{}' is not two tokens", rank, s);
      a = s.substr(0, space);
      b = s.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      a = m[0].get_ref<const std::string&>();
      b = m[1].get_ref<const std::string&>();
    } else {
      fail(ErrorKind::kParse, "tokenizer.json: model.merges[{}] is neither \"a b\" nor [a, b]",
           rank);
    }
    const auto id_a = vocab_.find(a), id_b = vocab_.find(b);
    if (!id_a || !id_b)
      fail(ErrorKind::kParse, "tokenizer.json: model.merges[{}]: '{}' is not in the vocab", rank,
           id_a ? b : a);
    // The merged token drops the right side's continuing-subword prefix ("un" + "##do" = "undo").
    const std::string_view right =
        !prefix_.empty() && b.starts_with(prefix_) ? b.substr(prefix_.size()) : b;
    joined.assign(a);
    joined.append(right);
    const auto merged = vocab_.find(joined);
    if (!merged)
      fail(ErrorKind::kParse,
           "tokenizer.json: model.merges[{}]: merged token '{}' is not in the vocab", rank, joined);
    merges_[pair_key(*id_a, *id_b)] = {static_cast<uint32_t>(rank), *merged};
  }
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

void Bpe::push_pair(
    const std::vector<Symbol>& w, int32_t pos,
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>>& q) const {
  const int32_t next = w[pos].next;
  if (next < 0) return;
  const auto it = merges_.find(pair_key(w[pos].id, w[next].id));
  if (it != merges_.end()) q.push({it->second.rank, pos, it->second.new_id});
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
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> q;
  for (int32_t pos = 0; pos + 1 < static_cast<int32_t>(w.size()); ++pos) push_pair(w, pos, q);
  while (!q.empty()) {
    const Candidate top = q.top();
    q.pop();
    Symbol& left = w[top.pos];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = w[left.next];
    // Stale entry: the pair at this position changed since it was queued.
    const auto it = merges_.find(pair_key(left.id, right.id));
    if (it == merges_.end() || it->second.new_id != top.new_id) continue;
    left.id = top.new_id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) w[right.next].prev = top.pos;
    if (left.prev >= 0) push_pair(w, left.prev, q);
    push_pair(w, top.pos, q);
  }
  for (const Symbol& s : w)
    if (s.alive) out.push_back(s.id);
}

}  // namespace

std::unique_ptr<Model> make_bpe_model(const Json& j) {
  return std::make_unique<Bpe>(j);
}

}  // namespace wick::tok
