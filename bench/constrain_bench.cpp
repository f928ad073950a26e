// Constrained decoding: microseconds per token for the allowed-token mask (plus accepting the
// token) with the Qwen3 vocabulary (151k tokens), walking real JSON documents token by token as
// a generation would. "cold" compiles a fresh Constraint per document (untimed), so every mask is
// computed; "warm" reuses the Constraint, whose Matchers share the automaton and mask cache (a
// repeated schema, or the other sequences of a batch).
#include <benchmark/benchmark.h>

#include "../tests/tokenizer/tokenizer_files.h"
#include "constrain/constraint.h"

namespace {

using namespace wick;

const char* kDocument =
    R"({"id": 18234, "user": {"name": "Ada Lovelace", "email": "ada@example.org",
  "roles": ["admin", "editor"], "address": {"street": "12 St James's Square", "city": "London",
  "zip": "SW1Y 4JH", "geo": {"lat": 51.5074, "lon": -0.1346}}}, "active": true,
  "created": "2024-05-01", "scores": [98, 87, 91.5], "notes": null,
  "items": [{"sku": "A-100", "qty": 2, "price": 19.99}, {"sku": "B-220", "qty": 1, "price": 5}]})";

const char* kSchema = R"({"type":"object","properties":{
  "id":{"type":"integer","minimum":1},
  "user":{"type":"object","properties":{"name":{"type":"string","maxLength":64},
    "email":{"type":"string","format":"email"},
    "roles":{"type":"array","items":{"enum":["admin","editor","viewer"]}},
    "address":{"$ref":"#/$defs/address"}},"required":["name","email","roles","address"]},
  "active":{"type":"boolean"},"created":{"type":"string","format":"date"},
  "scores":{"type":"array","items":{"type":"number","minimum":0,"maximum":100},"maxItems":10},
  "notes":{"type":["string","null"]},
  "items":{"type":"array","items":{"type":"object","properties":{
    "sku":{"type":"string","pattern":"^[A-Z]-[0-9]{3}$"},"qty":{"type":"integer","minimum":1,"maximum":99},
    "price":{"type":"number","minimum":0}},"required":["sku","qty","price"]}}},
  "required":["id","user","active","created","scores","notes","items"],
  "$defs":{"address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"},
    "zip":{"type":"string"},"geo":{"type":"object","properties":{"lat":{"type":"number"},"lon":{"type":"number"}},
    "required":["lat","lon"]}},"required":["street","city","zip","geo"]}}})";

struct Setup {
  std::unique_ptr<tok::Tokenizer> tokenizer;
  int32_t eos = 0;
  std::vector<int32_t> ids;
};

const Setup* setup() {
  static std::unique_ptr<Setup> s = [] {
    std::unique_ptr<Setup> out;
    auto json = tok::testing::tokenizer_json("qwen3");
    if (!json) return out;
    out = std::make_unique<Setup>();
    out->tokenizer = std::make_unique<tok::Tokenizer>(tok::Tokenizer::from_json(*json));
    out->eos = *out->tokenizer->token_to_id("<|im_end|>");
    out->ids = out->tokenizer->encode(kDocument, false);
    return out;
  }();
  return s.get();
}

void walk(benchmark::State& state, const constrain::Spec& spec, bool cold) {
  const Setup* s = setup();
  if (!s) {
    state.SkipWithError("qwen3 tokenizer not found under ../shared/testdata/tokenizers");
    return;
  }
  const std::vector<int32_t> eos{s->eos};
  auto c = constrain::compile(spec, *s->tokenizer, eos);
  std::vector<uint64_t> bits(c->mask_words());
  auto matcher = std::make_unique<constrain::Matcher>(c);
  int64_t tokens = 0;
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      matcher.reset();
      c = constrain::compile(spec, *s->tokenizer, eos);
      matcher = std::make_unique<constrain::Matcher>(c);
      state.ResumeTiming();
    } else {
      matcher->reset();
    }
    for (int32_t id : s->ids) {
      matcher->allowed_tokens(bits);
      if (!((bits[static_cast<size_t>(id) / 64] >> (id % 64)) & 1) || !matcher->accept_token(id)) {
        state.SkipWithError("the document's token was not allowed");
        return;
      }
    }
    matcher->allowed_tokens(bits);
    benchmark::DoNotOptimize(bits.data());
    tokens += static_cast<int64_t>(s->ids.size()) + 1;
  }
  // seconds per token (Google Benchmark prints it with a unit prefix, e.g. "12.3u" = 12.3 us)
  state.counters["per_token"] = benchmark::Counter(
      static_cast<double>(tokens), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["tokens"] = static_cast<double>(s->ids.size());
}

void BM_JsonGrammarCold(benchmark::State& state) {
  walk(state, {constrain::SpecKind::kJsonObject, {}, {}}, true);
}
void BM_JsonGrammarWarm(benchmark::State& state) {
  walk(state, {constrain::SpecKind::kJsonObject, {}, {}}, false);
}
void BM_NestedSchemaCold(benchmark::State& state) {
  walk(state, {constrain::SpecKind::kJsonSchema, kSchema, {}}, true);
}
void BM_NestedSchemaWarm(benchmark::State& state) {
  walk(state, {constrain::SpecKind::kJsonSchema, kSchema, {}}, false);
}

void BM_CompileQwen3(benchmark::State& state) {
  const Setup* s = setup();
  if (!s) {
    state.SkipWithError("qwen3 tokenizer not found");
    return;
  }
  for (auto _ : state)
    benchmark::DoNotOptimize(constrain::compile({constrain::SpecKind::kJsonSchema, kSchema, {}},
                                                *s->tokenizer, std::vector<int32_t>{s->eos}));
}

BENCHMARK(BM_JsonGrammarCold)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonGrammarWarm)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NestedSchemaCold)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NestedSchemaWarm)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CompileQwen3)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
