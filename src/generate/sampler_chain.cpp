// The Sampler: hard filters, then the user's stage order, then a draw or mirostat (v1/v2), with
// the state that persists across steps (RNG, mirostat's mu, the generated-token count for
// min_tokens). Also the stage names of llama.cpp's `samplers` list.
#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>

#include "core/error.h"
#include "generate/sampler_internal.h"
#include "tokenizer/tokenizer.h"

namespace wick::gen {

using namespace detail;

namespace {

struct StageName {
  const char* name;
  char letter;
  SamplerStage stage;
};

// The first name of each stage is its canonical name; the rest are accepted spellings.
constexpr StageName kStageNames[] = {
    {"penalties", 'e', SamplerStage::kPenalties},
    {"dry", 'd', SamplerStage::kDry},
    {"top_n_sigma", 's', SamplerStage::kTopNSigma},
    {"top_k", 'k', SamplerStage::kTopK},
    {"typ_p", 'y', SamplerStage::kTypicalP},
    {"top_p", 'p', SamplerStage::kTopP},
    {"min_p", 'm', SamplerStage::kMinP},
    {"epsilon", 'E', SamplerStage::kEpsilon},
    {"eta", 'h', SamplerStage::kEta},
    {"xtc", 'x', SamplerStage::kXtc},
    {"temperature", 't', SamplerStage::kTemperature},
    {"typical_p", 0, SamplerStage::kTypicalP},
    {"typical", 0, SamplerStage::kTypicalP},
    {"nucleus", 0, SamplerStage::kTopP},
    {"temp", 0, SamplerStage::kTemperature},
    {"top_nsigma", 0, SamplerStage::kTopNSigma},
    {"epsilon_cutoff", 0, SamplerStage::kEpsilon},
    {"eta_cutoff", 0, SamplerStage::kEta},
    {"repetition_penalty", 0, SamplerStage::kPenalties},
};

}  // namespace

std::vector<SamplerStage> default_sampler_stages() {
  using S = SamplerStage;
  return {S::kPenalties, S::kDry,     S::kTopNSigma, S::kTopK, S::kTypicalP,   S::kTopP,
          S::kMinP,      S::kEpsilon, S::kEta,       S::kXtc,  S::kTemperature};
}

const char* sampler_stage_name(SamplerStage s) {
  for (const StageName& n : kStageNames)
    if (n.stage == s) return n.name;
  return "?";
}

SamplerStage sampler_stage_from_name(std::string_view name) {
  std::string key(name);
  std::replace(key.begin(), key.end(), '-', '_');
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  for (const StageName& n : kStageNames)
    if (key == n.name) return n.stage;
  fail(ErrorKind::kInvalidArgument,
       "samplers: unknown sampler \"{}\" (known: penalties, dry, top_n_sigma, top_k, typ_p, "
       "top_p, min_p, epsilon, eta, xtc, temperature)",
       name);
}

std::vector<SamplerStage> parse_sampler_stages(std::string_view text) {
  std::vector<SamplerStage> out;
  const bool one_word = text.find_first_of(";, ") == std::string_view::npos;
  bool is_name = false;
  if (one_word) {
    try {
      out.push_back(sampler_stage_from_name(text));
      return out;
    } catch (const Error&) {
      is_name = text.find_first_of("_-") != std::string_view::npos;
    }
  }
  if (one_word && !is_name) {  // llama.cpp's letter form, e.g. "edkypmxt"
    for (char ch : text) {
      const StageName* hit = nullptr;
      for (const StageName& n : kStageNames)
        if (n.letter == ch) hit = &n;
      WICK_CHECK(hit, ErrorKind::kInvalidArgument,
                 "samplers: unknown sampler letter '{}' in \"{}\" (known: edskypmEhxt)", ch, text);
      out.push_back(hit->stage);
    }
    return out;
  }
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find_first_of(";, ", i);
    if (j == std::string_view::npos) j = text.size();
    if (j > i) out.push_back(sampler_stage_from_name(text.substr(i, j - i)));
    i = j + 1;
  }
  return out;
}

Sampler::Sampler(const SamplingParams& params, std::span<const int32_t> eos_ids,
                 const tok::Tokenizer* tokenizer)
    : params_(params),
      eos_ids_(eos_ids.begin(), eos_ids.end()),
      rng_(params.seed),
      tokenizer_(tokenizer) {
  if (params_.samplers.empty()) params_.samplers = default_sampler_stages();
  mu_ = 2 * params_.mirostat_tau;
  if (!tokenizer) return;
  // vLLM's bad_words: each word with and without a leading space, as the tokenizer splits it.
  for (const std::string& word : params_.bad_words)
    for (const std::string& text : {word, " " + word}) {
      std::vector<int32_t> ids = tokenizer->encode(text, false);
      if (!ids.empty()) params_.bad_words_ids.push_back(std::move(ids));
    }
}

// A token is a DRY sequence breaker when its text contains one of the breaker strings. Only
// history tokens are ever asked, so they are decoded on demand (decoding a 150k vocabulary up
// front costs ~100 ms per request).
bool Sampler::is_dry_breaker(int32_t id) {
  if (!tokenizer_ || params_.dry_sequence_breakers.empty()) return false;
  auto [it, fresh] = dry_breaker_memo_.try_emplace(id, false);
  if (!fresh) return it->second;
  const std::string text = tokenizer_->decode(std::span<const int32_t>(&id, 1));
  for (const std::string& b : params_.dry_sequence_breakers)
    if (!b.empty() && text.find(b) != std::string::npos) it->second = true;
  return it->second;
}

void Sampler::reset() {
  rng_.reseed(params_.seed);
  mu_ = 2 * params_.mirostat_tau;
  generated_ = 0;
}

void Sampler::apply_filters(Candidates& c, std::span<const int32_t> history,
                            std::span<const uint64_t> allowed_bits, size_t vocab) {
  if (!allowed_bits.empty()) sampler_apply_mask(c, allowed_bits);
  sampler_allowed_ids(c, params_.allowed_token_ids);
  sampler_bad_words(c, params_.bad_words_ids, history);
  if (params_.ignore_eos || generated_ < params_.min_tokens) sampler_ban_ids(c, eos_ids_);
  sampler_logit_bias(c, params_.logit_bias, vocab);
  WICK_CHECK(!c.ids.empty(), ErrorKind::kInvalidArgument,
             "sampler: no token left after allowed_token_ids, bad_words, min_tokens and "
             "logit_bias");
}

namespace {

// Candidates = the ids whose mask bit is set, ascending (as sampler_apply_mask leaves them).
void assign_allowed(Candidates& c, std::span<const float> logits,
                    std::span<const uint64_t> allowed_bits) {
  c.ids.clear();
  c.values.clear();
  const size_t words = std::min(allowed_bits.size(), (logits.size() + 63) / 64);
  for (size_t w = 0; w < words; ++w)
    for (uint64_t bits = allowed_bits[w]; bits != 0; bits &= bits - 1) {
      const size_t id = w * 64 + static_cast<size_t>(std::countr_zero(bits));
      if (id >= logits.size()) break;
      c.ids.push_back(static_cast<int32_t>(id));
      c.values.push_back(std::isnan(logits[id]) ? -HUGE_VALF : logits[id]);
    }
  c.sorted = c.probs = false;
  c.by_id = true;
  WICK_CHECK(!c.ids.empty(), ErrorKind::kInvalidArgument,
             "sampler: the constraint mask allows no token");
}

std::span<const int32_t> window(std::span<const int32_t> history, int last_n) {
  if (last_n == 0) return {};
  if (last_n > 0 && history.size() > static_cast<size_t>(last_n))
    return history.last(static_cast<size_t>(last_n));
  return history;
}

}  // namespace

void Sampler::apply_stage(SamplerStage s, Candidates& c, std::span<const int32_t> history) {
  const SamplingParams& p = params_;
  const size_t keep = static_cast<size_t>(std::max(p.min_keep, 1));
  switch (s) {
    case SamplerStage::kPenalties:
      return sampler_penalties(c, window(history, p.repeat_last_n), p.repeat_penalty,
                               p.frequency_penalty, p.presence_penalty);
    case SamplerStage::kDry:
      return sampler_dry(c, window(history, p.dry_penalty_last_n),
                         {p.dry_multiplier, p.dry_base, p.dry_allowed_length},
                         [this](int32_t id) { return is_dry_breaker(id); });
    case SamplerStage::kTopNSigma:
      return sampler_top_n_sigma(c, p.top_n_sigma);
    case SamplerStage::kTopK:
      if (p.top_k <= 0) return;
      return sampler_top_k(c, std::max(p.top_k, static_cast<int>(keep)));
    case SamplerStage::kTypicalP:
      return sampler_typical_p(c, p.typical_p, keep);
    case SamplerStage::kTopP:
      return sampler_top_p(c, p.top_p, keep);
    case SamplerStage::kMinP:
      return sampler_min_p(c, p.min_p, keep);
    case SamplerStage::kEpsilon:
      return sampler_epsilon(c, p.epsilon_cutoff, keep);
    case SamplerStage::kEta:
      return sampler_eta(c, p.eta_cutoff, keep);
    case SamplerStage::kXtc:
      return sampler_xtc(c, p.xtc_probability, p.xtc_threshold, keep, rng_);
    case SamplerStage::kTemperature:
      return sampler_dynamic_temperature(c, p.temperature, p.dynatemp_range, p.dynatemp_exponent);
  }
}

// Mirostat (Basu et al. 2021) as llama.cpp implements it. v1 estimates the Zipf exponent s
// from the 100 most likely tokens and keeps the top k that makes the expected surprise mu;
// v2 keeps the tokens whose surprise -log2 p is at most mu. Both then move mu by
// eta * (observed surprise - tau).
int32_t Sampler::mirostat_draw(Candidates& c, size_t vocab) {
  ensure_probs(c);
  if (params_.mirostat == 1) {
    constexpr size_t kM = 100;
    scan_sorted(c, [&](size_t i, float) { return i < kM; });
    double sum_tb = 0, sum_t2 = 0;
    for (size_t i = 0; i + 1 < std::min(kM, c.size()) && c.values[i + 1] > 0; ++i) {
      const double t = std::log(static_cast<double>(i + 2) / static_cast<double>(i + 1));
      const double b = std::log(static_cast<double>(c.values[i]) / c.values[i + 1]);
      sum_tb += t * b;
      sum_t2 += t * t;
    }
    const double s_hat = sum_t2 > 0 ? sum_tb / sum_t2 : 0;
    const double eps_hat = s_hat - 1;
    double k = std::pow(eps_hat * std::pow(2.0, static_cast<double>(mu_)) /
                            (1 - std::pow(static_cast<double>(vocab), -eps_hat)),
                        1 / s_hat);
    if (!std::isfinite(k) || k > static_cast<double>(c.size())) k = static_cast<double>(c.size());
    sampler_top_k(c, std::max(1, static_cast<int>(k)));
  } else {
    const double min_p = std::exp2(-static_cast<double>(mu_));  // surprise <= mu
    const size_t n = scan_sorted(c, [&](size_t, float v) { return v >= min_p; });
    truncate(c, std::max<size_t>(n, 1));
  }
  ensure_probs(c);
  const size_t at = draw_index(c, rng_);
  const double surprise = -std::log2(static_cast<double>(c.values[at]));
  mu_ -= static_cast<float>(params_.mirostat_eta * (surprise - params_.mirostat_tau));
  return c.ids[at];
}

bool Sampler::filters_active(std::span<const uint64_t> allowed_bits) const {
  return !allowed_bits.empty() || !params_.allowed_token_ids.empty() ||
         !params_.bad_words_ids.empty() || !params_.logit_bias.empty() ||
         (!eos_ids_.empty() && (params_.ignore_eos || generated_ < params_.min_tokens));
}

bool Sampler::penalties_active() const {
  const SamplingParams& p = params_;
  const bool repeat = p.repeat_last_n != 0 && (p.repeat_penalty != 1 || p.presence_penalty != 0 ||
                                               p.frequency_penalty != 0);
  const bool dry = p.dry_multiplier > 0 && p.dry_penalty_last_n != 0;
  return repeat || dry;
}

bool Sampler::stage_is_noop(SamplerStage s) const {
  const SamplingParams& p = params_;
  switch (s) {
    case SamplerStage::kPenalties:
      return p.repeat_last_n == 0 ||
             (p.repeat_penalty == 1 && p.presence_penalty == 0 && p.frequency_penalty == 0);
    case SamplerStage::kDry:
      return p.dry_multiplier <= 0 || p.dry_penalty_last_n == 0;
    case SamplerStage::kTopNSigma:
      return p.top_n_sigma <= 0;
    case SamplerStage::kTopK:
      return p.top_k <= 0;
    case SamplerStage::kTypicalP:
      return p.typical_p >= 1;
    case SamplerStage::kTopP:
      return p.top_p >= 1;
    case SamplerStage::kMinP:
      return p.min_p <= 0;
    case SamplerStage::kEpsilon:
      return p.epsilon_cutoff <= 0;
    case SamplerStage::kEta:
      return p.eta_cutoff <= 0;
    case SamplerStage::kXtc:
      return p.xtc_probability <= 0 || p.xtc_threshold > 0.5f;
    case SamplerStage::kTemperature:
      return false;
  }
  return false;
}

// When the first stage that does anything is a small top-k, the k best are picked straight
// from the logits: no copy of the vocabulary. Returns the index of the next stage to run, or 0
// after copying the logits as usual.
size_t Sampler::top_k_straight_from_logits(Candidates& c, std::span<const float> logits) {
  const std::vector<SamplerStage>& order = params_.samplers;
  size_t i = 0;
  while (i < order.size() && stage_is_noop(order[i])) ++i;
  const size_t k = static_cast<size_t>(std::max(params_.top_k, std::max(params_.min_keep, 1)));
  if (i < order.size() && order[i] == SamplerStage::kTopK && k * 16 < logits.size()) {
    select_top_k(logits.data(), nullptr, logits.size(), k, c);
    c.probs = false;
    return i + 1;
  }
  c.assign_logits(logits);
  return 0;
}

// Greedy decoding whose filters and penalties touch only a few ids (EOS bans for ignore_eos or
// min_tokens, bad words, logit_bias, repetition penalties: not allowed_token_ids, a mask or DRY):
// those ids go through the same filter and penalty functions as a small candidate list, every
// other id keeps its logit, so the choice equals the full path's without copying the vocabulary
// (which costs ~0.3 ms per token at 128k ids, per sequence of a server's batch). False when the
// full path must run (the ids the filters touch are not known up front, or nothing survives
// among the untouched ids' finite logits).
bool Sampler::greedy_sparse(std::span<const float> logits, std::span<const int32_t> history,
                            int32_t& id) {
  const SamplingParams& p = params_;
  if (!p.allowed_token_ids.empty() || (p.dry_multiplier > 0 && p.dry_penalty_last_n != 0))
    return false;
  const bool ban_eos = p.ignore_eos || generated_ < p.min_tokens;
  const bool penalties = penalties_active();
  std::vector<int32_t>& touched = sparse_ids_;
  touched.clear();
  for (const std::vector<int32_t>& w : p.bad_words_ids)
    if (!w.empty()) touched.push_back(w.back());
  if (ban_eos) touched.insert(touched.end(), eos_ids_.begin(), eos_ids_.end());
  for (const auto& [bias_id, b] : p.logit_bias) touched.push_back(bias_id);
  if (penalties) {
    const std::span<const int32_t> recent = window(history, p.repeat_last_n);
    touched.insert(touched.end(), recent.begin(), recent.end());
  }
  const auto vocab = static_cast<int64_t>(logits.size());
  std::erase_if(touched, [&](int32_t t) { return t < 0 || t >= vocab; });
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());

  // The best untouched id: the maximum over the gaps between touched ids, first position.
  float best = -std::numeric_limits<float>::infinity();
  int64_t best_at = -1;
  int64_t begin = 0;
  for (size_t i = 0; i <= touched.size(); ++i) {
    const int64_t end = i < touched.size() ? touched[i] : vocab;
    if (end > begin) {
      const std::span<const float> gap =
          logits.subspan(static_cast<size_t>(begin), static_cast<size_t>(end - begin));
      const float m = max_value(gap);
      if (m > best) {
        best = m;
        best_at = begin + (std::find(gap.begin(), gap.end(), m) - gap.begin());
      }
    }
    begin = end + 1;
  }
  if (best_at < 0) return false;  // no finite untouched logit: the full path decides

  Candidates& c = work_;
  c.ids.assign(touched.begin(), touched.end());
  c.values.clear();
  for (int32_t t : touched) {
    const float v = logits[static_cast<size_t>(t)];
    c.values.push_back(std::isnan(v) ? -std::numeric_limits<float>::infinity() : v);
  }
  c.sorted = c.probs = false;
  c.by_id = true;
  sampler_bad_words(c, p.bad_words_ids, history);
  if (ban_eos) sampler_ban_ids(c, eos_ids_);
  sampler_logit_bias(c, p.logit_bias, logits.size());
  if (penalties)
    for (SamplerStage s : p.samplers)
      if (s == SamplerStage::kPenalties) apply_stage(s, c, history);
  id = static_cast<int32_t>(best_at);
  for (size_t i = 0; i < c.size(); ++i)
    if (c.values[i] > best || (c.values[i] == best && c.ids[i] < id)) {
      best = c.values[i];
      id = c.ids[i];
    }
  return true;
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history,
                        std::span<const uint64_t> allowed_bits) {
  WICK_CHECK(!logits.empty(), ErrorKind::kInvalidArgument, "sampler: empty logits");
  const auto is_penalty = [](SamplerStage s) {
    return s == SamplerStage::kPenalties || s == SamplerStage::kDry;
  };
  const bool greedy = params_.temperature <= 0.0f;
  if (greedy && !filters_active(allowed_bits) && !penalties_active()) {
    ++generated_;
    return sampler_argmax(logits);
  }
  if (greedy && allowed_bits.empty()) {
    int32_t id = 0;
    if (greedy_sparse(logits, history, id)) {
      ++generated_;
      return id;
    }
  }
  Candidates& c = work_;
  size_t first_stage = 0;       // stages before it already ran (or had nothing to do)
  if (!allowed_bits.empty()) {  // only the allowed ids: a sparse mask touches little memory
    assign_allowed(c, logits, allowed_bits);
    allowed_bits = {};
  } else if (!greedy && !filters_active({}) && params_.mirostat == 0) {
    first_stage = top_k_straight_from_logits(c, logits);
  } else {
    c.assign_logits(logits);
  }
  if (first_stage == 0) apply_filters(c, history, allowed_bits, logits.size());
  ++generated_;
  if (greedy) {  // only the stages that can change the argmax
    for (SamplerStage s : params_.samplers)
      if (is_penalty(s)) apply_stage(s, c, history);
    return sampler_argmax(c);
  }
  if (params_.mirostat == 1 || params_.mirostat == 2) {
    for (SamplerStage s : params_.samplers)
      if (is_penalty(s)) apply_stage(s, c, history);
    apply_stage(SamplerStage::kTemperature, c, history);
    return mirostat_draw(c, logits.size());
  }
  for (size_t i = first_stage; i < params_.samplers.size(); ++i)
    apply_stage(params_.samplers[i], c, history);
  ensure_probs(c);
  return sampler_draw(c, rng_);
}

}  // namespace wick::gen
