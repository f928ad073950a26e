// `wick logits -m PATH --prompt-ids 1,2,3 [--json]`: the float32 logits of the last position,
// as {"logits": [...]} with --json (for comparisons against other implementations), else the
// ten largest as "id logit" lines.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "command.h"
#include "core/thread_pool.h"
#include "generate/bundle.h"
#include "sampling_flags.h"

namespace wick::cli {
namespace {

struct LogitsFlags {
  std::string model;
  std::string prompt;
  std::string prompt_ids;
  bool json = false;
  int threads = 0;
  DeviceFlag device;
};

int logits(const LogitsFlags& f) {
  if (f.threads > 0) ThreadPool::set_global_threads(f.threads);
  gen::ModelBundle bundle =
      gen::load_bundle(f.model, f.prompt_ids.empty() || !f.json, f.device.resolve());
  std::vector<int32_t> ids;
  if (!f.prompt_ids.empty()) {
    ids = parse_prompt_ids(f.prompt_ids);
  } else {
    WICK_CHECK(bundle.tokenizer, ErrorKind::kInvalidArgument,
               "{} has no tokenizer; pass --prompt-ids", f.model);
    ids = bundle.tokenizer->encode(f.prompt, true);
  }
  nn::KvCache cache = bundle.model().make_cache();
  cache.add_sequence(0);
  models::BatchItem item{0, ids};
  std::vector<float> row = bundle.model().forward({&item, 1}, cache).to_float_vector();
  if (f.json) {
    nlohmann::json out = {{"logits", row}};
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  std::vector<int32_t> order(row.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t k = std::min<size_t>(10, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                    [&](int32_t a, int32_t b) {
                      return row[static_cast<size_t>(a)] > row[static_cast<size_t>(b)];
                    });
  for (size_t i = 0; i < k; ++i) {
    const int32_t id = order[i];
    std::string piece;
    if (bundle.tokenizer) piece = bundle.tokenizer->id_to_token(id).value_or("");
    std::printf("%d\t%.6f\t%s\n", id, static_cast<double>(row[static_cast<size_t>(id)]),
                piece.c_str());
  }
  return 0;
}

CommandRegistration reg(
    "logits", "print the last position's logits for a prompt", [](CLI::App& sub) {
      auto f = std::make_shared<LogitsFlags>();
      sub.add_option("-m,--model", f->model, "HF folder or .gguf file")->required();
      sub.add_option("prompt", f->prompt, "prompt text (tokenized with the model's tokenizer)");
      sub.add_option("--prompt-ids", f->prompt_ids, "comma-separated token ids");
      sub.add_flag("--json", f->json, "print {\"logits\": [...]} (float32)");
      sub.add_option("-t,--threads", f->threads, "CPU threads (default: all cores)");
      f->device.add(sub);
      return [f] { return logits(*f); };
    });

}  // namespace
}  // namespace wick::cli
