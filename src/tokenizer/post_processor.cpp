// Post-processor implementations and their construction from tokenizer.json.
#include "tokenizer/post_processor.h"

namespace wick::tok {
namespace {

// ids = prefix ++ sequence ++ suffix; covers templates, BERT and RoBERTa.
class Wrap : public PostProcessor {
 public:
  Wrap(std::vector<int32_t> prefix, std::vector<int32_t> suffix)
      : prefix_(std::move(prefix)), suffix_(std::move(suffix)) {}
  void process(std::vector<int32_t>& ids) const override {
    ids.insert(ids.begin(), prefix_.begin(), prefix_.end());
    ids.insert(ids.end(), suffix_.begin(), suffix_.end());
  }

 private:
  std::vector<int32_t> prefix_, suffix_;
};

class Sequence : public PostProcessor {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PostProcessor>> steps) : steps_(std::move(steps)) {}
  void process(std::vector<int32_t>& ids) const override {
    for (const auto& step : steps_) step->process(ids);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> steps_;
};

int32_t checked_id(const Json& v, std::string_view where) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX)
    fail(ErrorKind::kParse, "tokenizer.json: {} is not a token id", where);
  return static_cast<int32_t>(v.get<int64_t>());
}

// "single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}, ...]
std::unique_ptr<PostProcessor> make_template(const Json& j, std::string_view where) {
  const Json& single = json_array(j, "single", where);
  const Json& specials = json_field(j, "special_tokens", where);
  std::vector<int32_t> prefix, suffix;
  bool seen_sequence = false;
  for (size_t i = 0; i < single.size(); ++i) {
    const std::string item = fmt::format("{}.single[{}]", where, i);
    const Json& e = single[i];
    if (e.is_object() && e.contains("Sequence")) {
      if (seen_sequence) fail(ErrorKind::kUnsupported, "tokenizer.json: {}: second sequence", item);
      seen_sequence = true;
      continue;
    }
    if (!e.is_object() || !e.contains("SpecialToken"))
      fail(ErrorKind::kParse, "tokenizer.json: {} is neither SpecialToken nor Sequence", item);
    const std::string name = json_string(e["SpecialToken"], "id", item);
    const auto it = specials.find(name);
    if (it == specials.end())
      fail(ErrorKind::kParse, "tokenizer.json: {}: special token '{}' is not in special_tokens",
           item, name);
    const Json& ids = json_array(*it, "ids", fmt::format("{}.special_tokens['{}']", where, name));
    for (const Json& id : ids) (seen_sequence ? suffix : prefix).push_back(checked_id(id, item));
  }
  return std::make_unique<Wrap>(std::move(prefix), std::move(suffix));
}

// "cls": ["[CLS]", 101], "sep": ["[SEP]", 102]
int32_t pair_id(const Json& j, const char* key, std::string_view where) {
  const Json& v = json_field(j, key, where);
  if (!v.is_array() || v.size() != 2)
    fail(ErrorKind::kParse, "tokenizer.json: {}.{} is not [token, id]", where, key);
  return checked_id(v[1], fmt::format("{}.{}[1]", where, key));
}

}  // namespace

std::unique_ptr<PostProcessor> make_post_processor(const Json& j, std::string_view where) {
  if (j.is_null()) return nullptr;
  const std::string type = json_string(j, "type", where);
  if (type == "TemplateProcessing") return make_template(j, where);
  if (type == "BertProcessing" || type == "RobertaProcessing")
    return std::make_unique<Wrap>(std::vector<int32_t>{pair_id(j, "cls", where)},
                                  std::vector<int32_t>{pair_id(j, "sep", where)});
  if (type == "ByteLevel") return nullptr;
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PostProcessor>> steps;
    const Json& list = json_array(j, "processors", where);
    for (size_t i = 0; i < list.size(); ++i) {
      auto step = make_post_processor(list[i], fmt::format("{}.processors[{}]", where, i));
      if (step) steps.push_back(std::move(step));
    }
    return std::make_unique<Sequence>(std::move(steps));
  }
  fail(ErrorKind::kUnsupported, "tokenizer.json: {}: post_processor type '{}' is not supported",
       where, type);
}

}  // namespace wick::tok
