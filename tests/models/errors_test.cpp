// Bad inputs give a wick::Error that names the field or tensor and the file: unknown
// architecture, bad config values, inconsistent head counts, wrong tensor shapes, missing
// tensors. Each case edits a copy of a golden model's config.json in a temporary folder.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <functional>

#include "models/registry.h"

namespace wick::models {
namespace {

namespace fs = std::filesystem;

// Copies tests/data/models/<name> to a temp folder with config.json edited by `edit`, loads it
// and returns the error message ("" if it loaded).
std::string load_error(const std::string& name, const std::function<void(nlohmann::json&)>& edit,
                       ErrorKind* kind = nullptr) {
  const fs::path src = fs::path(WICK_SOURCE_DIR) / "tests/data/models" / name;
  const fs::path dir = fs::temp_directory_path() /
                       ("wick_errors_" + name + "_" +
                        std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(src / "model.safetensors", dir / "model.safetensors");
  std::ifstream in(src / "config.json");
  nlohmann::json cfg = nlohmann::json::parse(in);
  edit(cfg);
  std::ofstream(dir / "config.json") << cfg.dump(2);
  std::string message;
  try {
    load_model(dir.string());
  } catch (const Error& e) {
    message = e.what();
    if (kind) *kind = e.kind();
  }
  fs::remove_all(dir);
  return message;
}

class ModelErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(fs::path(WICK_SOURCE_DIR) / "tests/data/models/llama_tied/model.safetensors"))
      GTEST_SKIP() << "golden data absent: tests/data/models/llama_tied";
  }
};

TEST_F(ModelErrors, LoadsUnedited) {
  EXPECT_EQ(load_error("llama_tied", [](auto&) {}), "");
}

TEST_F(ModelErrors, UnknownArchitectureNamesItAndTheFile) {
  ErrorKind kind{};
  std::string m = load_error(
      "llama_tied",
      [](auto& c) {
        c["architectures"] = {"FooForCausalLM"};
        c["model_type"] = "foo";
      },
      &kind);
  EXPECT_EQ(kind, ErrorKind::kUnsupported);
  EXPECT_NE(m.find("FooForCausalLM"), std::string::npos) << m;
  EXPECT_NE(m.find("config.json"), std::string::npos) << m;
}

TEST_F(ModelErrors, MistypedFieldNamesTheField) {
  std::string m = load_error("llama_tied", [](auto& c) { c["hidden_size"] = "sixty-four"; });
  EXPECT_NE(m.find("hidden_size"), std::string::npos) << m;
  EXPECT_NE(m.find("config.json"), std::string::npos) << m;
}

TEST_F(ModelErrors, MissingFieldNamesTheField) {
  std::string m = load_error("llama_tied", [](auto& c) { c.erase("num_hidden_layers"); });
  EXPECT_NE(m.find("num_hidden_layers"), std::string::npos) << m;
}

TEST_F(ModelErrors, InconsistentHeadsAreRejected) {
  std::string m = load_error("llama_tied", [](auto& c) { c["num_key_value_heads"] = 3; });
  EXPECT_NE(m.find("num_key_value_heads"), std::string::npos) << m;
}

TEST_F(ModelErrors, UnsupportedRopeTypeNamesIt) {
  std::string m = load_error("llama", [](auto& c) { c["rope_parameters"]["rope_type"] = "yarn"; });
  EXPECT_NE(m.find("yarn"), std::string::npos) << m;
}

TEST_F(ModelErrors, WrongShapeNamesTheTensorAndBothShapes) {
  std::string m = load_error("llama_tied", [](auto& c) { c["intermediate_size"] = 96; });
  EXPECT_NE(m.find("model.layers.0.mlp.gate_proj.weight"), std::string::npos) << m;
  EXPECT_NE(m.find("(128, 64)"), std::string::npos) << m;
  EXPECT_NE(m.find("(96, 64)"), std::string::npos) << m;
}

TEST_F(ModelErrors, MissingTensorNamesItAndTheFile) {
  ErrorKind kind{};
  std::string m = load_error(
      "llama_tied", [](auto& c) { c["tie_word_embeddings"] = false; }, &kind);
  EXPECT_EQ(kind, ErrorKind::kNotFound);
  EXPECT_NE(m.find("lm_head.weight"), std::string::npos) << m;
  EXPECT_NE(m.find("model.safetensors"), std::string::npos) << m;
}

TEST_F(ModelErrors, MissingPathAndNonModelFile) {
  EXPECT_THROW(load_model("/nonexistent/wick/model"), Error);
  const fs::path junk = fs::temp_directory_path() / "wick_not_a_model.bin";
  std::ofstream(junk) << "hello";
  EXPECT_THROW(load_model(junk.string()), Error);
  fs::remove(junk);
}

}  // namespace
}  // namespace wick::models
