// Post-processors: add the special tokens a model expects around an encoded sequence
// (TemplateProcessing, BERT's [CLS] .. [SEP], RoBERTa's <s> .. </s>). Only single sequences:
// wick never encodes sentence pairs. ByteLevel post-processing only moves offsets, so it is a
// no-op here.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "tokenizer/json_fields.h"

namespace wick::tok {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  virtual void process(std::vector<int32_t>& ids) const = 0;
};

// Builds tokenizer.json's "post_processor" (null gives nullptr); unknown types throw.
std::unique_ptr<PostProcessor> make_post_processor(const Json& j,
                                                   std::string_view where = "post_processor");

}  // namespace wick::tok
