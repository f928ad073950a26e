// ChatTemplate against golden renders made by Python jinja2 in transformers' environment
// (scripts/make_chat_template_golden.py -> tests/data/chat_templates/*.json): every real
// template (Llama 3, Qwen 3, Gemma 3, DeepSeek V3, SmolLM2 GGUF) on varied conversations.
#include "tokenizer/chat_template.h"

#include "core/error.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace wick::tok {
namespace {

using ojson = nlohmann::ordered_json;

std::filesystem::path golden_dir() {
  return std::filesystem::path(WICK_SOURCE_DIR) / "tests" / "data" / "chat_templates";
}

ojson load(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ojson::parse(ss.str());
}

std::vector<std::filesystem::path> golden_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(golden_dir()))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ChatTemplateGolden, MatchesJinja2OnRealTemplates) {
  auto files = golden_files();
  ASSERT_GE(files.size(), 5u) << "golden data missing in " << golden_dir();
  int rendered = 0, errors = 0;
  for (const auto& path : files) {
    ojson data = load(path);
    SCOPED_TRACE(path.filename().string());
    ChatTemplate tpl(data["template"].get<std::string>(), data["bos_token"].get<std::string>(),
                     data["eos_token"].get<std::string>());
    for (const auto& c : data["cases"]) {
      SCOPED_TRACE(c["name"].get<std::string>());
      bool agp = c["add_generation_prompt"].get<bool>();
      if (c.contains("expected")) {
        std::string out;
        try {
          out = tpl.render(c["messages"], agp, c["tools"], c["extra_context"]);
        } catch (const Error& e) {
          ADD_FAILURE() << "unexpected error: " << e.what();
          continue;
        }
        EXPECT_EQ(out, c["expected"].get<std::string>());
        ++rendered;
      } else {
        EXPECT_THROW(tpl.render(c["messages"], agp, c["tools"], c["extra_context"]), Error)
            << "jinja2 raised: " << c["error"].get<std::string>();
        ++errors;
      }
    }
  }
  EXPECT_GE(rendered, 50);
  EXPECT_GE(errors, 5);
}

TEST(ChatTemplateGolden, RaiseExceptionMessageIsKept) {
  ojson data = load(golden_dir() / "gemma3.json");
  ChatTemplate tpl(data["template"].get<std::string>(), "<bos>", "<eos>");
  ojson msgs = ojson::parse(R"([{"role":"user","content":"a"},{"role":"user","content":"b"}])");
  try {
    tpl.render(msgs, true);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Conversation roles must alternate"), std::string::npos)
        << e.what();
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
  }
}

TEST(ChatTemplate, SortedJsonOverloadRenders) {
  ChatTemplate tpl(
      "{{ bos_token }}{% for m in messages %}{{ m['role'] }}:{{ m['content'] }};{% endfor %}"
      "{% if add_generation_prompt %}A:{% endif %}{{ tools }}",
      "<s>", "</s>");
  nlohmann::json msgs = nlohmann::json::parse(R"([{"role":"user","content":"hi"}])");
  EXPECT_EQ(tpl.render(msgs, true), "<s>user:hi;A:None");
  EXPECT_EQ(tpl.render(msgs, false, nullptr, {{"x", 1}}), "<s>user:hi;None");
}

TEST(ChatTemplate, ExtraContextAndSharedTemplates) {
  ChatTemplate tpl("{{ enable_thinking is defined }}{{ enable_thinking }}{{ eos_token }}", "", "E");
  ojson msgs = ojson::array();
  EXPECT_EQ(tpl.render(msgs, false), "FalseE");
  EXPECT_EQ(tpl.render(msgs, false, nullptr, ojson{{"enable_thinking", false}}), "TrueFalseE");
}

TEST(ChatTemplate, SyntaxErrorsCarryLineAndColumn) {
  try {
    ChatTemplate tpl("line one\n{% if x %}\n{{ x + }}\n{% endif %}", "", "");
    FAIL() << "expected a parse error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kParse);
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
  try {
    ChatTemplate tpl("{% include 'x.html' %}", "", "");
    FAIL() << "expected unsupported";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
  }
  EXPECT_THROW(ChatTemplate("{% for x in y %}", "", ""), Error);
  EXPECT_THROW(ChatTemplate("{{ 'unterminated }}", "", ""), Error);
  EXPECT_THROW(ChatTemplate("{# no end", "", ""), Error);
}

TEST(ChatTemplate, MessagesMustBeAList) {
  ChatTemplate tpl("x", "", "");
  EXPECT_THROW(tpl.render(ojson::object(), true), Error);
}

}  // namespace
}  // namespace wick::tok
