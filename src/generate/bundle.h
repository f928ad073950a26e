// ModelBundle: what generation needs from a model path — the model, its tokenizer and chat
// template when the files carry them, and the ids that end a turn. An HF folder gives
// tokenizer.json, tokenizer_config.json (chat_template, bos/eos tokens) and
// generation_config.json (eos_token_id); a GGUF file gives all of it from its metadata.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/registry.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace wick::gen {

struct ModelBundle {
  models::LoadedModel loaded;
  std::unique_ptr<tok::Tokenizer> tokenizer;         // null when the files have none
  std::unique_ptr<tok::ChatTemplate> chat_template;  // null when the files have none
  std::string bos_token, eos_token;                  // strings, for templates
  std::vector<int32_t> eos_ids;                      // config, generation config and tokenizer

  const models::Model& model() const { return *loaded.model; }
};

// `with_tokenizer` false skips the tokenizer and chat template (building a 262k-token GGUF
// vocabulary takes seconds), e.g. for logits of given ids.
ModelBundle load_bundle(const std::string& path, bool with_tokenizer = true,
                        Device device = Device::cpu());

}  // namespace wick::gen
