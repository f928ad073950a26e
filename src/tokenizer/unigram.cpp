// Unigram language-model tokenization: the segmentation maximising the sum of piece log
// probabilities (Viterbi over byte positions). Characters no piece covers cost min_score - 10
// and become unk (consecutive unks fused), or byte tokens when byte_fallback is set.
#include <algorithm>
#include <limits>

#include "tokenizer/model.h"
#include "tokenizer/utf8.h"

namespace wick::tok {
namespace {

constexpr double kUnkPenalty = 10.0;

class Unigram : public Model {
 public:
  explicit Unigram(const Json& j);
  void tokenize(std::string_view piece, std::vector<int32_t>& out) const override;

 private:
  std::vector<double> scores_;  // by id
  std::optional<int32_t> unk_id_;
  bool byte_fallback_ = false;
  size_t max_piece_bytes_ = 0;
  double min_score_ = 0.0;
  std::vector<int32_t> byte_ids_;
};

Unigram::Unigram(const Json& j) {
  const Json& vocab = json_array(j, "vocab", "model");
  scores_.reserve(vocab.size());
  min_score_ = std::numeric_limits<double>::infinity();
  for (size_t id = 0; id < vocab.size(); ++id) {
    const Json& e = vocab[id];
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number())
      fail(ErrorKind::kParse, "tokenizer.json: model.vocab[{}] is not [piece, score]", id);
    if (static_cast<int64_t>(id) > kMaxTokenId)
      fail(ErrorKind::kParse, "tokenizer.json: model.vocab has more than {} pieces", kMaxTokenId);
    const std::string& p = e[0].get_ref<const std::string&>();
    vocab_.add(p, static_cast<int32_t>(id), "model.vocab");
    scores_.push_back(e[1].get<double>());
    min_score_ = std::min(min_score_, scores_.back());
    max_piece_bytes_ = std::max(max_piece_bytes_, p.size());
  }
  const auto unk = j.find("unk_id");
  if (unk != j.end() && !unk->is_null()) {
    if (!unk->is_number_integer() || unk->get<int64_t>() < 0 ||
        unk->get<int64_t>() >= static_cast<int64_t>(vocab.size()))
      fail(ErrorKind::kParse, "tokenizer.json: model.unk_id is not an id of the vocab");
    unk_id_ = static_cast<int32_t>(unk->get<int64_t>());
  }
  byte_fallback_ = json_bool_or(j, "byte_fallback", false, "model");
  if (byte_fallback_) byte_ids_ = byte_fallback_ids(vocab_);
}

void Unigram::tokenize(std::string_view s, std::vector<int32_t>& out) const {
  struct Node {
    double score = 0.0;
    int64_t start = -1;  // -1: not reached yet
    int32_t id = 0;
  };
  std::vector<Node> best(s.size() + 1);
  const double unk_score = min_score_ - kUnkPenalty;
  // A candidate replaces the current best only when strictly better: ties keep the first found.
  const auto offer = [&best](size_t end, size_t start, double score, int32_t id) {
    Node& n = best[end];
    if (n.start < 0 || score > n.score) n = {score, static_cast<int64_t>(start), id};
  };
  for (size_t start = 0; start < s.size();) {
    const double base = best[start].score;
    const size_t char_len = utf8_sequence_length(s, start);
    bool has_single = false;
    const size_t limit = std::min(max_piece_bytes_, s.size() - start);
    for (size_t len = 1; len <= limit; ++len) {
      const auto id = vocab_.find(s.substr(start, len));
      if (!id) continue;
      offer(start + len, start, base + scores_[*id], *id);
      if (len == char_len) has_single = true;
    }
    if (!has_single) {
      if (!unk_id_)
        fail(ErrorKind::kInvalidArgument,
             "unigram: no piece covers byte {} and the model has no unk_id", start);
      offer(start + char_len, start, base + unk_score, *unk_id_);
    }
    start += char_len;
  }
  // Walk back; consecutive unk pieces fuse into one span (Unigram always fuses unk).
  std::vector<std::pair<size_t, size_t>> spans;
  std::vector<int32_t> ids;
  for (size_t end = s.size(); end > 0;) {
    const Node& n = best[end];
    const auto start = static_cast<size_t>(n.start);
    const bool unk = unk_id_ && n.id == *unk_id_;
    if (unk && !ids.empty() && ids.back() == *unk_id_ && spans.back().first == end) {
      spans.back().first = start;
    } else {
      spans.push_back({start, end});
      ids.push_back(n.id);
    }
    end = start;
  }
  for (size_t k = spans.size(); k-- > 0;) {
    const auto [b, e] = spans[k];
    if (const auto id = vocab_.find(s.substr(b, e - b))) {
      out.push_back(*id);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (size_t i = b; i < e; ++i) all = all && byte_ids_[static_cast<uint8_t>(s[i])] >= 0;
      if (all) {
        for (size_t i = b; i < e; ++i) out.push_back(byte_ids_[static_cast<uint8_t>(s[i])]);
        continue;
      }
    }
    out.push_back(*unk_id_);
  }
}

}  // namespace

std::unique_ptr<Model> make_unigram_model(const Json& j) {
  return std::make_unique<Unigram>(j);
}

}  // namespace wick::tok
