// Request JSON -> SamplingParams (see sampling_json.h). One small reader per JSON type that
// checks the type and range and names the field; the field table below maps every accepted
// spelling onto SamplingParams.
#include "generate/sampling_json.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "core/error.h"

namespace wick::gen {

namespace {

using json = nlohmann::json;

constexpr int kMaxTopLogprobs = 100;
constexpr double kInf = std::numeric_limits<double>::infinity();

class Reader {
 public:
  Reader(const json& body, std::string prefix) : body_(body), prefix_(std::move(prefix)) {}

  // The field's value, or null when absent.
  const json* get(const char* name) const {
    auto it = body_.find(name);
    return it == body_.end() || it->is_null() ? nullptr : &*it;
  }
  std::string field(const char* name) const { return prefix_ + name; }

  // A finite number in [lo, hi] (lo_open / hi_open exclude the bound).
  bool number(const char* name, float& out, double lo, double hi, bool lo_open = false,
              bool hi_open = false) const {
    const json* v = get(name);
    if (!v) return false;
    const double x = v->is_number() ? v->get<double>() : std::nan("");
    const bool ok =
        std::isfinite(x) && (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi);
    if (!ok)
      fail(ErrorKind::kInvalidArgument, "field \"{}\": expected a number in {}{}, {}{}, got {}",
           field(name), lo_open ? "(" : "[", lo, hi, hi_open ? ")" : "]", v->dump());
    out = static_cast<float>(x);
    return true;
  }
  // An integer in [lo, hi] (a float with an integral value is accepted).
  bool integer(const char* name, int64_t& out, int64_t lo, int64_t hi) const {
    const json* v = get(name);
    if (!v) return false;
    bool ok = false;
    if (v->is_number_unsigned()) {
      const uint64_t u = v->get<uint64_t>();
      ok = u <= static_cast<uint64_t>(hi);
      out = static_cast<int64_t>(u);
    } else if (v->is_number_integer()) {
      out = v->get<int64_t>();
      ok = true;
    } else if (v->is_number_float()) {
      const double d = v->get<double>();
      ok = std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9e15;
      out = ok ? static_cast<int64_t>(d) : 0;
    }
    if (!ok || out < lo || out > hi)
      fail(ErrorKind::kInvalidArgument, "field \"{}\": expected an integer in [{}, {}], got {}",
           field(name), lo, hi, v->dump());
    return true;
  }
  bool integer(const char* name, int& out, int64_t lo, int64_t hi) const {
    int64_t v = 0;
    if (!integer(name, v, lo, hi)) return false;
    out = static_cast<int>(v);
    return true;
  }
  bool boolean(const char* name, bool& out) const {
    const json* v = get(name);
    if (!v) return false;
    if (!v->is_boolean())
      fail(ErrorKind::kInvalidArgument, "field \"{}\": expected true or false, got {}", field(name),
           v->dump());
    out = v->get<bool>();
    return true;
  }
  std::vector<int32_t> id_list(const json& v, const std::string& where) const {
    if (!v.is_array())
      fail(ErrorKind::kInvalidArgument, "field \"{}\": expected an array of token ids, got {}",
           where, v.dump());
    std::vector<int32_t> ids;
    for (const json& e : v) {
      if (!e.is_number_integer() || e.get<int64_t>() < 0 || e.get<int64_t>() > INT32_MAX)
        fail(ErrorKind::kInvalidArgument, "field \"{}\": {} is not a token id", where, e.dump());
      ids.push_back(static_cast<int32_t>(e.get<int64_t>()));
    }
    return ids;
  }
  std::vector<std::string> string_list(const char* name) const {
    const json* v = get(name);
    std::vector<std::string> out;
    if (!v) return out;
    if (!v->is_array())
      fail(ErrorKind::kInvalidArgument, "field \"{}\": expected an array of strings, got {}",
           field(name), v->dump());
    for (const json& e : *v) {
      if (!e.is_string() || e.get<std::string>().empty())
        fail(ErrorKind::kInvalidArgument, "field \"{}\": {} is not a non-empty string", field(name),
             e.dump());
      out.push_back(e.get<std::string>());
    }
    return out;
  }

 private:
  const json& body_;
  std::string prefix_;
};

float bias_value(const json& b, const std::string& where) {
  if (b.is_boolean() && !b.get<bool>()) return -std::numeric_limits<float>::infinity();
  if (!b.is_number() || !std::isfinite(b.get<double>()))
    fail(ErrorKind::kInvalidArgument, "field \"{}\": bias {} is not a finite number or false",
         where, b.dump());
  return b.get<float>();
}

int32_t bias_id(const std::string& key, const std::string& where) {
  size_t used = 0;
  long long id = -1;
  try {
    id = std::stoll(key, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != key.size() || id < 0 || id > INT32_MAX)
    fail(ErrorKind::kInvalidArgument, "field \"{}\": key \"{}\" is not a token id", where, key);
  return static_cast<int32_t>(id);
}

// OpenAI {"123": -100} or llama.cpp [[123, -1.5], [7, false]].
void read_logit_bias(const Reader& r, SamplingParams& p) {
  const json* v = r.get("logit_bias");
  if (!v) return;
  const std::string where = r.field("logit_bias");
  p.logit_bias.clear();
  if (v->is_object()) {
    for (auto it = v->begin(); it != v->end(); ++it)
      p.logit_bias.emplace_back(bias_id(it.key(), where), bias_value(it.value(), where));
    return;
  }
  if (!v->is_array())
    fail(ErrorKind::kInvalidArgument,
         "field \"{}\": expected an object {{\"id\": bias}} or an array [[id, bias]], got {}",
         where, v->dump());
  for (const json& e : *v) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_number_integer() || e[0].get<int64_t>() < 0 ||
        e[0].get<int64_t>() > INT32_MAX)
      fail(ErrorKind::kInvalidArgument, "field \"{}\": entry {} is not [token id, bias]", where,
           e.dump());
    p.logit_bias.emplace_back(static_cast<int32_t>(e[0].get<int64_t>()), bias_value(e[1], where));
  }
}

void read_samplers(const Reader& r, SamplingParams& p) {
  const json* v = r.get("samplers");
  if (!v) return;
  try {
    if (v->is_string()) {
      p.samplers = parse_sampler_stages(v->get<std::string>());
      return;
    }
    if (!v->is_array()) fail(ErrorKind::kInvalidArgument, "expected a string or an array");
    p.samplers.clear();
    for (const json& e : *v) {
      if (!e.is_string()) fail(ErrorKind::kInvalidArgument, "{} is not a sampler name", e.dump());
      p.samplers.push_back(sampler_stage_from_name(e.get<std::string>()));
    }
  } catch (const Error& e) {
    fail(ErrorKind::kInvalidArgument, "field \"{}\": {}", r.field("samplers"), e.what());
  }
}

void read_logprobs(const Reader& r, SamplingParams& p) {
  if (const json* v = r.get("logprobs")) {  // chat: bool; completions: number of alternatives
    if (v->is_boolean()) {
      p.logprobs = v->get<bool>();
    } else {
      r.integer("logprobs", p.top_logprobs, 0, kMaxTopLogprobs);
      p.logprobs = true;
    }
  }
  r.integer("top_logprobs", p.top_logprobs, 0, kMaxTopLogprobs);
  int n_probs = 0;
  if (r.integer("n_probs", n_probs, 0, kMaxTopLogprobs)) {  // llama.cpp
    p.logprobs = n_probs > 0;
    p.top_logprobs = n_probs;
  }
  r.integer("prompt_logprobs", p.prompt_logprobs, 0, kMaxTopLogprobs);
}

void read_token_lists(const Reader& r, SamplingParams& p) {
  if (const json* v = r.get("allowed_token_ids")) {
    p.allowed_token_ids = r.id_list(*v, r.field("allowed_token_ids"));
    WICK_CHECK(!p.allowed_token_ids.empty(), ErrorKind::kInvalidArgument,
               "field \"{}\": must not be empty", r.field("allowed_token_ids"));
  }
  if (const json* v = r.get("bad_words_ids")) {  // transformers: [[id, ...], ...]
    const std::string where = r.field("bad_words_ids");
    if (!v->is_array())
      fail(ErrorKind::kInvalidArgument, "field \"{}\": expected an array of id arrays", where);
    p.bad_words_ids.clear();
    for (const json& w : *v) {
      p.bad_words_ids.push_back(r.id_list(w, where));
      WICK_CHECK(!p.bad_words_ids.back().empty(), ErrorKind::kInvalidArgument,
                 "field \"{}\": a banned word is empty", where);
    }
  }
  if (r.get("bad_words")) p.bad_words = r.string_list("bad_words");  // vLLM: text
  if (r.get("dry_sequence_breakers"))
    p.dry_sequence_breakers = r.string_list("dry_sequence_breakers");
}

void read_all(const Reader& r, SamplingParams& p) {
  r.number("temperature", p.temperature, 0, kInf);
  int64_t top_k = 0;
  if (r.integer("top_k", top_k, -1, INT32_MAX))
    p.top_k = static_cast<int>(std::max<int64_t>(top_k, 0));
  r.number("top_p", p.top_p, 0, 1);
  r.number("min_p", p.min_p, 0, 1);
  r.number("typical_p", p.typical_p, 0, 1, true);
  r.number("repeat_penalty", p.repeat_penalty, 0, kInf, true);
  r.number("repetition_penalty", p.repeat_penalty, 0, kInf, true);
  r.integer("repeat_last_n", p.repeat_last_n, -1, INT32_MAX);
  r.integer("penalty_last_n", p.repeat_last_n, -1, INT32_MAX);
  r.number("presence_penalty", p.presence_penalty, -kInf, kInf);
  r.number("frequency_penalty", p.frequency_penalty, -kInf, kInf);
  r.number("top_n_sigma", p.top_n_sigma, -kInf, kInf);
  r.number("epsilon_cutoff", p.epsilon_cutoff, 0, 1, false, true);
  r.number("eta_cutoff", p.eta_cutoff, 0, 1, false, true);
  r.number("dynatemp_range", p.dynatemp_range, 0, kInf);
  r.number("dynatemp_exponent", p.dynatemp_exponent, 0, kInf);
  r.number("xtc_probability", p.xtc_probability, 0, 1);
  r.number("xtc_threshold", p.xtc_threshold, 0, 1);
  r.integer("mirostat", p.mirostat, 0, 2);
  r.number("mirostat_tau", p.mirostat_tau, 0, kInf);
  r.number("mirostat_eta", p.mirostat_eta, 0, kInf);
  r.number("dry_multiplier", p.dry_multiplier, 0, kInf);
  r.number("dry_base", p.dry_base, 1, kInf);
  r.integer("dry_allowed_length", p.dry_allowed_length, 0, INT32_MAX);
  r.integer("dry_penalty_last_n", p.dry_penalty_last_n, -1, INT32_MAX);
  r.integer("min_tokens", p.min_tokens, 0, INT32_MAX);
  r.integer("min_keep", p.min_keep, 0, INT32_MAX);
  r.boolean("ignore_eos", p.ignore_eos);
  int64_t seed = 0;
  if (r.integer("seed", seed, -1, INT64_MAX))  // -1: a random seed (llama.cpp)
    p.seed = seed >= 0 ? static_cast<uint64_t>(seed) : std::random_device{}();
  read_logit_bias(r, p);
  read_samplers(r, p);
  read_logprobs(r, p);
  read_token_lists(r, p);
}

}  // namespace

void sampling_from_json(const nlohmann::json& body, SamplingParams& params) {
  if (!body.is_object())
    fail(ErrorKind::kInvalidArgument, "request body: expected a JSON object, got {}",
         body.type_name());
  read_all(Reader(body, ""), params);
  auto options = body.find("options");  // Ollama
  if (options == body.end() || options->is_null()) return;
  if (!options->is_object())
    fail(ErrorKind::kInvalidArgument, "field \"options\": expected an object, got {}",
         options->type_name());
  read_all(Reader(*options, "options."), params);
}

}  // namespace wick::gen
