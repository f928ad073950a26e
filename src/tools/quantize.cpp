// Quantization driver: GGUF input, per-tensor conversion over the thread pool, the output file.
#include "tools/quantize.h"

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/quant/quant.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"

namespace wick::tools {
namespace {

// Keys the quantizer writes itself.
bool is_owned_key(std::string_view key) {
  return key == "general.file_type" || key == "general.quantization_version" ||
         key == "general.alignment";
}

SourceModel open_gguf_source(const std::string& path, GgufWriter& writer) {
  std::shared_ptr<const GgufFile> file = GgufFile::open(path);
  for (const GgufKeyValue& kv : file->metadata()) {
    if (!is_owned_key(kv.key)) writer.add_value(kv.key, kv.value);
  }
  SourceModel m;
  const std::string arch(file->architecture());
  m.info.n_layers = file->get_u32_or(arch + ".block_count", 0);
  m.info.n_heads = file->get_u32_or(arch + ".attention.head_count", 0);
  m.info.n_kv_heads =
      file->get_u32_or(arch + ".attention.head_count_kv", static_cast<uint32_t>(m.info.n_heads));
  m.info.has_output = file->find_tensor("output.weight") != nullptr;
  for (const GgufTensorInfo& t : file->tensors()) {
    WICK_CHECK(t.dtype.has_value(), ErrorKind::kUnsupported,
               "{}: tensor '{}' has ggml type {}, which wick cannot convert", path, t.name,
               t.type_name);
    m.tensors.push_back({std::string(t.name), *t.dtype, t.shape, file->tensor_bytes(t), 0});
  }
  m.keepalive = file;
  return m;
}

bool is_gguf_file(const std::string& path) {
  if (std::filesystem::is_directory(path)) return false;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  uint32_t magic = 0;
  const bool ok = std::fread(&magic, 4, 1, f) == 1 && magic == kGgufMagic;
  std::fclose(f);
  return ok;
}

// GGUF row g of a permuted Q/K matrix holds HF row hf_row(g) (llama.cpp's convert permute()).
int64_t permuted_source_row(int64_t g, int64_t rows, int heads) {
  const int64_t head_dim = rows / heads;
  const int64_t h = g / head_dim, rem = g % head_dim;
  return h * head_dim + (rem % 2) * (head_dim / 2) + rem / 2;
}

void check_writable(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "ab");
  if (!f) fail(ErrorKind::kIo, "cannot write output '{}': {}", path, std::strerror(errno));
  std::fclose(f);
}

}  // namespace

double QuantizeReport::bits_per_weight_in() const {
  return n_params ? 8.0 * static_cast<double>(bytes_in) / static_cast<double>(n_params) : 0;
}
double QuantizeReport::bits_per_weight_out() const {
  return n_params ? 8.0 * static_cast<double>(bytes_out) / static_cast<double>(n_params) : 0;
}

SourceModel open_source_model(const std::string& path, GgufWriter& writer) {
  WICK_CHECK(std::filesystem::exists(path), ErrorKind::kNotFound, "input '{}' does not exist",
             path);
  if (is_gguf_file(path)) return open_gguf_source(path, writer);
  WICK_CHECK(std::filesystem::is_directory(path), ErrorKind::kInvalidArgument,
             "input '{}' is neither a GGUF file nor an HF folder (config.json + safetensors)",
             path);
  return open_hf_source(path, writer);
}

std::vector<uint8_t> convert_tensor(const SourceTensor& t, DType to) {
  int64_t numel = 1;
  for (int64_t d : t.shape) numel *= d;
  const int64_t cols = t.shape.empty() ? 1 : t.shape.back();
  const int64_t rows = cols > 0 ? numel / cols : 0;
  WICK_CHECK(t.bytes.size() == dtype_bytes_for(t.stored, static_cast<uint64_t>(numel)),
             ErrorKind::kParse, "tensor '{}': {} bytes for {} values of {}", t.name, t.bytes.size(),
             numel, dtype_name(t.stored));
  WICK_CHECK(t.permute_heads == 0 || rows % (2 * t.permute_heads) == 0, ErrorKind::kInvalidArgument,
             "tensor '{}': {} rows do not split into {} heads of even size", t.name, rows,
             t.permute_heads);
  std::vector<uint8_t> out(dtype_bytes_for(to, static_cast<uint64_t>(numel)));
  if (rows == 0) return out;
  const size_t in_row = t.bytes.size() / static_cast<size_t>(rows);
  const size_t out_row = out.size() / static_cast<size_t>(rows);
  const bool copy = to == t.stored;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(cols, 1));
  parallel_for(rows, grain, [&](int64_t begin, int64_t end) {
    std::vector<float> row(copy ? 0 : static_cast<size_t>(cols));
    for (int64_t r = begin; r < end; ++r) {
      const int64_t src = t.permute_heads ? permuted_source_row(r, rows, t.permute_heads) : r;
      const uint8_t* in = t.bytes.data() + static_cast<size_t>(src) * in_row;
      uint8_t* dst = out.data() + static_cast<size_t>(r) * out_row;
      if (copy) {
        std::memcpy(dst, in, in_row);
      } else {
        dequantize_row(t.stored, in, row.data(), cols);
        quantize_row(to, row.data(), dst, cols);
      }
    }
  });
  return out;
}

QuantizeReport quantize_model(const QuantizeOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (options.threads > 0) ThreadPool::set_global_threads(options.threads);
  GgufWriter writer;
  SourceModel src = open_source_model(options.input, writer);
  check_writable(options.output);
  writer.add_u32("general.file_type", options.recipe.file_type);
  writer.add_u32("general.quantization_version", 2);
  QuantizeReport report;
  for (size_t i = 0; i < src.tensors.size(); ++i) {
    const SourceTensor& t = src.tensors[i];
    const DType to = recipe_tensor_type(options.recipe, src.info, t.name, t.shape, t.stored);
    if (options.on_tensor) options.on_tensor({i, src.tensors.size(), t.name, t.stored, to});
    const std::vector<uint8_t> bytes = convert_tensor(t, to);
    uint64_t numel = 1;
    for (int64_t d : t.shape) numel *= static_cast<uint64_t>(d);
    report.n_params += numel;
    report.bytes_in += t.bytes.size();
    report.bytes_out += bytes.size();
    report.types.emplace_back(t.name, to);
    writer.add_tensor(t.name, to, t.shape, bytes);
  }
  writer.write(options.output);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace wick::tools
