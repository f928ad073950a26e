// `wick inspect FILE [--json]`: the metadata and tensor table of a GGUF file, a safetensors file or
// a sharded safetensors checkpoint (index.json or its directory). Long arrays and strings are
// summarised (first entries + count); --json prints the same as one JSON object for machines.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "command.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"

namespace wick::cli {
namespace {

using ojson = nlohmann::ordered_json;

struct InspectOptions {
  std::string path;
  bool json = false;
  size_t max_items = 8;  // array entries shown; 0 = all
};

std::string shape_str(const std::vector<int64_t>& shape) {
  return fmt::format("({})", fmt::join(shape, ", "));
}

// A JSON string literal for arbitrary bytes (invalid UTF-8 replaced by U+FFFD).
std::string quoted(std::string_view s, size_t max_chars) {
  std::string text(s.substr(0, max_chars == 0 ? s.size() : std::min(s.size(), max_chars)));
  std::string out = ojson(text).dump(-1, ' ', false, ojson::error_handler_t::replace);
  if (text.size() < s.size()) out += fmt::format("... ({} bytes)", s.size());
  return out;
}

ojson value_json(const GgufValue& v, size_t max_items) {
  switch (v.type) {
    case GgufType::kString:
      return ojson(std::string(v.string));
    case GgufType::kBool:
      return ojson(v.int_bits != 0);
    case GgufType::kF32:
    case GgufType::kF64:
      return ojson(v.float_value);
    case GgufType::kArray:
      break;
    default:
      if (v.as_i64()) return ojson(*v.as_i64());
      return ojson(v.int_bits);
  }
  ojson items = ojson::array();
  const uint64_t shown = max_items == 0 ? v.count : std::min<uint64_t>(v.count, max_items);
  for (uint64_t i = 0; i < shown; ++i) {
    if (v.elem_type == GgufType::kString) {
      items.push_back(std::string(v.strings[i]));
    } else if (v.elem_type == GgufType::kArray) {
      items.push_back(value_json(v.arrays[i], max_items));
    } else if (v.elem_type == GgufType::kF32 || v.elem_type == GgufType::kF64) {
      items.push_back(v.float_at(i));
    } else if (v.elem_type == GgufType::kBool) {
      items.push_back(v.int_at(i) != 0);
    } else if (v.elem_type == GgufType::kU64) {
      items.push_back(static_cast<uint64_t>(v.int_at(i)));
    } else {
      items.push_back(v.int_at(i));
    }
  }
  return {{"elem_type", gguf_type_name(v.elem_type)}, {"count", v.count}, {"values", items}};
}

std::string type_str(const GgufValue& v) {
  if (!v.is_array()) return gguf_type_name(v.type);
  return fmt::format("{}[{}]", gguf_type_name(v.elem_type), v.count);
}

std::string value_text(const GgufValue& v, size_t max_items) {
  if (v.type == GgufType::kString) return quoted(v.string, 120);
  if (!v.is_array()) return value_json(v, max_items).dump();
  std::vector<std::string> parts;
  const uint64_t shown = max_items == 0 ? v.count : std::min<uint64_t>(v.count, max_items);
  const ojson numbers =
      gguf_type_size(v.elem_type) != 0 ? value_json(v, max_items)["values"] : ojson::array();
  for (uint64_t i = 0; i < shown; ++i) {
    if (v.elem_type == GgufType::kString) {
      parts.push_back(quoted(v.strings[i], 40));
    } else if (v.elem_type == GgufType::kArray) {
      parts.push_back(value_text(v.arrays[i], max_items));
    } else {
      parts.push_back(numbers[i].dump());
    }
  }
  if (shown < v.count) parts.push_back(fmt::format("... {} more", v.count - shown));
  return fmt::format("[{}]", fmt::join(parts, ", "));
}

struct Row {
  std::string name, dtype, shape;
  uint64_t offset, bytes;
};

void print_table(const std::vector<Row>& rows) {
  size_t name_w = 4, dtype_w = 5, shape_w = 5;
  uint64_t total = 0;
  for (const Row& r : rows) {
    name_w = std::max(name_w, r.name.size());
    dtype_w = std::max(dtype_w, r.dtype.size());
    shape_w = std::max(shape_w, r.shape.size());
    total += r.bytes;
  }
  fmt::print("tensors ({}, {} bytes; offset = byte in the file):\n", rows.size(), total);
  fmt::print("  {:<{}}  {:<{}}  {:<{}}  {:>12}  {:>12}\n", "name", name_w, "dtype", dtype_w,
             "shape", shape_w, "offset", "bytes");
  for (const Row& r : rows) {
    fmt::print("  {:<{}}  {:<{}}  {:<{}}  {:>12}  {:>12}\n", r.name, name_w, r.dtype, dtype_w,
               r.shape, shape_w, r.offset, r.bytes);
  }
}

ojson rows_json(const std::vector<Row>& rows, const std::vector<std::vector<int64_t>>& shapes) {
  ojson out = ojson::array();
  for (size_t i = 0; i < rows.size(); ++i) {
    out.push_back({{"name", rows[i].name},
                   {"dtype", rows[i].dtype},
                   {"shape", shapes[i]},
                   {"offset", rows[i].offset},
                   {"bytes", rows[i].bytes}});
  }
  return out;
}

void print_json(const ojson& j) {
  fmt::print("{}\n", j.dump(2, ' ', false, ojson::error_handler_t::replace));
}

int inspect_gguf(const InspectOptions& opt) {
  const auto f = GgufFile::open(opt.path);
  std::vector<Row> rows;
  std::vector<std::vector<int64_t>> shapes;
  for (const GgufTensorInfo& t : f->tensors()) {
    rows.push_back(
        {std::string(t.name), t.type_name, shape_str(t.shape), t.file_offset, t.n_bytes});
    shapes.push_back(t.shape);
  }
  if (opt.json) {
    ojson meta = ojson::object();
    for (const GgufKeyValue& kv : f->metadata()) {
      meta[std::string(kv.key)] = {{"type", gguf_type_name(kv.value.type)},
                                   {"value", value_json(kv.value, opt.max_items)}};
    }
    print_json({{"format", "gguf"},
                {"path", opt.path},
                {"version", f->version()},
                {"file_size", f->file_size()},
                {"alignment", f->alignment()},
                {"data_offset", f->data_offset()},
                {"metadata", meta},
                {"tensors", rows_json(rows, shapes)}});
    return 0;
  }
  fmt::print("GGUF v{}  {}  ({} bytes, alignment {}, data at {})\n", f->version(), opt.path,
             f->file_size(), f->alignment(), f->data_offset());
  size_t key_w = 3;
  for (const GgufKeyValue& kv : f->metadata()) key_w = std::max(key_w, kv.key.size());
  fmt::print("metadata ({} keys):\n", f->metadata().size());
  for (const GgufKeyValue& kv : f->metadata()) {
    fmt::print("  {:<{}}  {:<12}  {}\n", kv.key, key_w, type_str(kv.value),
               value_text(kv.value, opt.max_items));
  }
  print_table(rows);
  return 0;
}

ojson safetensors_json(const SafetensorsFile& f, std::vector<Row>& rows) {
  std::vector<std::vector<int64_t>> shapes;
  rows.clear();
  for (const SafetensorsTensorInfo& t : f.tensors()) {
    rows.push_back({t.name, t.dtype_name, shape_str(t.shape), t.file_offset, t.n_bytes});
    shapes.push_back(t.shape);
  }
  return {{"path", f.path()},
          {"file_size", f.file_size()},
          {"header_bytes", f.header_bytes()},
          {"metadata", f.metadata()},
          {"tensors", rows_json(rows, shapes)}};
}

int inspect_safetensors(const InspectOptions& opt) {
  const auto ckpt = SafetensorsCheckpoint::open(opt.path);
  std::vector<Row> rows;
  if (opt.json) {
    ojson shards = ojson::array();
    for (const auto& shard : ckpt->shards()) shards.push_back(safetensors_json(*shard, rows));
    print_json({{"format", "safetensors"}, {"path", opt.path}, {"shards", shards}});
    return 0;
  }
  for (const auto& shard : ckpt->shards()) {
    safetensors_json(*shard, rows);
    fmt::print("safetensors  {}  ({} bytes, header {} bytes)\n", shard->path(), shard->file_size(),
               shard->header_bytes());
    fmt::print("metadata ({} keys):\n", shard->metadata().size());
    for (const auto& [key, value] : shard->metadata())
      fmt::print("  {}  {}\n", key, quoted(value, 120));
    print_table(rows);
  }
  return 0;
}

bool is_gguf(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec) || path.ends_with(".json")) return false;
  const auto mapped = MappedFile::open(path);
  return mapped->size() >= 4 && std::memcmp(mapped->data(), "GGUF", 4) == 0;
}

const CommandRegistration kInspect(
    "inspect", "Print the metadata and tensor table of a GGUF or safetensors file",
    [](CLI::App& sub) -> CommandAction {
      auto opt = std::make_shared<InspectOptions>();
      sub.add_option("file", opt->path,
                     "a .gguf, a .safetensors, a model.safetensors.index.json or a directory")
          ->required();
      sub.add_flag("--json", opt->json, "print one JSON object");
      sub.add_option("--max-items", opt->max_items, "array entries to show (0 = all)")
          ->capture_default_str();
      return [opt] { return is_gguf(opt->path) ? inspect_gguf(*opt) : inspect_safetensors(*opt); };
    });

}  // namespace
}  // namespace wick::cli
