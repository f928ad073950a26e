// safetensors parsing and validation, plus sharded checkpoints. nlohmann::json parses the header
// (it rejects invalid UTF-8); a parser callback catches duplicate tensor names, which a JSON object
// would otherwise silently collapse.
#include "formats/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>

#include "core/error.h"
#include "core/mapped_file.h"

namespace wick {
namespace {

using nlohmann::json;

struct StDType {
  const char* name;
  uint32_t bytes;
  std::optional<DType> dtype;
};

const std::array<StDType, 16> kDTypes = {{
    {"BOOL", 1, DType::kBool},
    {"U8", 1, DType::kU8},
    {"I8", 1, std::nullopt},
    {"I16", 2, std::nullopt},
    {"U16", 2, std::nullopt},
    {"F16", 2, DType::kF16},
    {"BF16", 2, DType::kBF16},
    {"I32", 4, DType::kI32},
    {"U32", 4, std::nullopt},
    {"F32", 4, DType::kF32},
    {"F64", 8, std::nullopt},
    {"I64", 8, DType::kI64},
    {"U64", 8, std::nullopt},
    {"F8_E4M3", 1, std::nullopt},
    {"F8_E5M2", 1, std::nullopt},
    {"F8_E8M0", 1, std::nullopt},
}};

const StDType* find_dtype(std::string_view name) {
  for (const StDType& d : kDTypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

}  // namespace

class SafetensorsParser {
 public:
  explicit SafetensorsParser(SafetensorsFile& file) : file_(file) {}

  void parse() {
    const std::span<const uint8_t> bytes = file_.bytes_;
    if (bytes.size() < 8) {
      bad(0,
          fmt::format("file of {} bytes is too short for the 8-byte header length", bytes.size()));
    }
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    if (n > bytes.size() - 8) {
      bad(0, fmt::format("header length {} exceeds the {} bytes after it (truncated file?)", n,
                         bytes.size() - 8));
    }
    if (n > kSafetensorsMaxHeaderBytes) {
      bad(0,
          fmt::format("header length {} exceeds the {} byte limit", n, kSafetensorsMaxHeaderBytes));
    }
    file_.header_bytes_ = n;
    const json header = parse_json(bytes.subspan(8, n));
    if (!header.is_object()) bad(8, "header is not a JSON object");
    for (const auto& [name, entry] : header.items()) {
      if (name == "__metadata__") {
        parse_metadata(entry);
      } else {
        file_.tensors_.push_back(parse_tensor(name, entry));
      }
    }
    check_layout();
  }

 private:
  [[noreturn]] void bad(uint64_t offset, const std::string& detail) {
    fail(ErrorKind::kParse, "{}: safetensors header at byte {}: {}", file_.path_, offset, detail);
  }
  [[noreturn]] void bad_tensor(const std::string& name, const std::string& detail) {
    fail(ErrorKind::kParse, "{}: safetensors header (bytes 8..{}): tensor '{}': {}", file_.path_,
         8 + file_.header_bytes_, name, detail);
  }

  json parse_json(std::span<const uint8_t> text) {
    if (text.empty() || text[0] != '{') bad(8, "header does not start with '{'");
    std::set<std::string> seen;
    std::string duplicate;
    auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
      if (depth == 1 && event == json::parse_event_t::key && duplicate.empty() &&
          !seen.insert(parsed.get<std::string>()).second) {
        duplicate = parsed.get<std::string>();
      }
      return true;
    };
    try {
      json header = json::parse(text.begin(), text.end(), callback);
      if (!duplicate.empty()) bad(8, fmt::format("duplicate entry '{}'", duplicate));
      return header;
    } catch (const json::parse_error& e) {
      bad(8 + (e.byte > 0 ? e.byte - 1 : 0), fmt::format("invalid JSON: {}", e.what()));
    } catch (const json::exception& e) {  // e.g. out_of_range: a number too large for a double
      bad(8, fmt::format("invalid JSON: {}", e.what()));
    }
  }

  void parse_metadata(const json& entry) {
    if (!entry.is_object()) bad(8, "__metadata__ is not an object");
    for (const auto& [key, value] : entry.items()) {
      if (!value.is_string()) bad(8, fmt::format("__metadata__ '{}' is not a string", key));
      file_.metadata_[key] = value.get<std::string>();
    }
  }

  SafetensorsTensorInfo parse_tensor(const std::string& name, const json& entry) {
    if (!entry.is_object()) bad_tensor(name, "entry is not an object");
    SafetensorsTensorInfo info;
    info.name = name;
    const auto dtype_it = entry.find("dtype");
    if (dtype_it == entry.end() || !dtype_it->is_string())
      bad_tensor(name, "missing string 'dtype'");
    info.dtype_name = dtype_it->get<std::string>();
    const StDType* dtype = find_dtype(info.dtype_name);
    if (dtype == nullptr) bad_tensor(name, fmt::format("unknown dtype '{}'", info.dtype_name));
    info.dtype = dtype->dtype;
    info.element_bytes = dtype->bytes;
    const auto shape_it = entry.find("shape");
    if (shape_it == entry.end() || !shape_it->is_array()) bad_tensor(name, "missing array 'shape'");
    uint64_t numel = 1;
    for (const json& extent : *shape_it) {
      if (!extent.is_number_unsigned() ||
          extent.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        bad_tensor(name,
                   fmt::format("shape entry {} is not a non-negative integer", extent.dump()));
      }
      const uint64_t e = extent.get<uint64_t>();
      if (__builtin_mul_overflow(numel, e, &numel) ||
          numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        bad_tensor(name, fmt::format("shape {} overflows the element count", shape_it->dump()));
      }
      info.shape.push_back(static_cast<int64_t>(e));
    }
    info.n_elements = numel;
    const auto offsets_it = entry.find("data_offsets");
    if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
        !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned()) {
      bad_tensor(name, "'data_offsets' must be [begin, end] with non-negative integers");
    }
    const uint64_t begin = (*offsets_it)[0].get<uint64_t>();
    const uint64_t end = (*offsets_it)[1].get<uint64_t>();
    if (end < begin)
      bad_tensor(name, fmt::format("data_offsets [{}, {}] end before begin", begin, end));
    uint64_t expected = 0;
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(dtype->bytes), &expected)) {
      bad_tensor(name, fmt::format("shape {} of {} overflows the byte count", shape_it->dump(),
                                   info.dtype_name));
    }
    if (end - begin != expected) {
      bad_tensor(name,
                 fmt::format("data_offsets [{}, {}] hold {} bytes but shape {} of {} needs {}",
                             begin, end, end - begin, shape_it->dump(), info.dtype_name, expected));
    }
    const uint64_t data_bytes = file_.bytes_.size() - 8 - file_.header_bytes_;
    if (end > data_bytes) {
      bad_tensor(name, fmt::format("data_offsets [{}, {}] end past the {} data bytes of the file",
                                   begin, end, data_bytes));
    }
    info.begin = begin;
    info.n_bytes = end - begin;
    info.file_offset = 8 + file_.header_bytes_ + begin;
    return info;
  }

  void check_layout() {
    std::vector<SafetensorsTensorInfo>& tensors = file_.tensors_;
    std::stable_sort(tensors.begin(), tensors.end(),
                     [](const SafetensorsTensorInfo& a, const SafetensorsTensorInfo& b) {
                       return a.begin < b.begin;
                     });
    for (size_t i = 1; i < tensors.size(); ++i) {
      const SafetensorsTensorInfo& prev = tensors[i - 1];
      if (tensors[i].begin < prev.begin + prev.n_bytes) {
        bad_tensor(tensors[i].name,
                   fmt::format("data_offsets begin {} overlaps tensor '{}' at [{}, {}]",
                               tensors[i].begin, prev.name, prev.begin, prev.begin + prev.n_bytes));
      }
    }
    for (size_t i = 0; i < tensors.size(); ++i) file_.index_.emplace(tensors[i].name, i);
  }

  SafetensorsFile& file_;
};

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  std::shared_ptr<MappedFile> mapped = MappedFile::open(path);
  const std::span<const uint8_t> bytes = mapped->bytes();
  return open_bytes(bytes, path, std::move(mapped));
}

std::shared_ptr<SafetensorsFile> SafetensorsFile::open_bytes(
    std::span<const uint8_t> bytes, std::string name, std::shared_ptr<const void> keepalive) {
  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = std::move(name);
  file->bytes_ = bytes;
  file->keepalive_ = std::move(keepalive);
  SafetensorsParser(*file).parse();
  return file;
}

const SafetensorsTensorInfo* SafetensorsFile::find_tensor(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const uint8_t> SafetensorsFile::tensor_bytes(const SafetensorsTensorInfo& info) const {
  WICK_CHECK(info.file_offset <= bytes_.size() && info.n_bytes <= bytes_.size() - info.file_offset,
             ErrorKind::kInvalidArgument, "{}: tensor '{}' is not a tensor of this file", path_,
             info.name);
  return bytes_.subspan(info.file_offset, info.n_bytes);
}

// ---- sharded checkpoints ----

namespace fs = std::filesystem;

std::shared_ptr<SafetensorsCheckpoint> SafetensorsCheckpoint::open(const std::string& path) {
  auto checkpoint = std::make_shared<SafetensorsCheckpoint>();
  fs::path p(path);
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "model.safetensors.index.json", ec)) {
      p /= "model.safetensors.index.json";
    } else if (fs::exists(p / "model.safetensors", ec)) {
      p /= "model.safetensors";
    } else {
      fail(ErrorKind::kNotFound, "{}: no model.safetensors or model.safetensors.index.json", path);
    }
  }
  if (p.string().ends_with(".json")) {
    checkpoint->open_index(p.string());
  } else {
    checkpoint->shards_.push_back(SafetensorsFile::open(p.string()));
    for (const SafetensorsTensorInfo& t : checkpoint->shards_[0]->tensors()) {
      checkpoint->names_.push_back(t.name);
      checkpoint->shard_of_.emplace(t.name, 0);
    }
  }
  return checkpoint;
}

void SafetensorsCheckpoint::open_index(const std::string& index_path) {
  std::shared_ptr<MappedFile> mapped = MappedFile::open(index_path);
  json index;
  try {
    index = json::parse(mapped->bytes().begin(), mapped->bytes().end());
  } catch (const json::parse_error& e) {
    fail(ErrorKind::kParse, "{}: invalid JSON at byte {}: {}", index_path, e.byte, e.what());
  } catch (const json::exception& e) {
    fail(ErrorKind::kParse, "{}: invalid JSON: {}", index_path, e.what());
  }
  const auto map_it = index.is_object() ? index.find("weight_map") : index.end();
  if (map_it == index.end() || !map_it->is_object()) {
    fail(ErrorKind::kParse, "{}: missing object 'weight_map'", index_path);
  }
  if (const auto meta = index.find("metadata"); meta != index.end() && meta->is_object()) {
    for (const auto& [key, value] : meta->items()) {
      index_metadata_[key] = value.is_string() ? value.get<std::string>() : value.dump();
    }
  }
  const fs::path dir = fs::path(index_path).parent_path();
  std::map<std::string, size_t> shard_by_file;  // file name -> index in shards_, opened sorted
  std::vector<std::pair<std::string, std::string>> entries;  // tensor name, file name
  for (const auto& [name, file_json] : map_it->items()) {
    if (!file_json.is_string()) {
      fail(ErrorKind::kParse, "{}: weight_map['{}'] is not a string", index_path, name);
    }
    const std::string file = file_json.get<std::string>();
    if (file.empty() || file == "." || file == ".." || file.find('/') != std::string::npos ||
        file.find('\\') != std::string::npos) {
      fail(ErrorKind::kParse, "{}: weight_map['{}'] = '{}' is not a plain file name", index_path,
           name, file);
    }
    shard_by_file.emplace(file, 0);
    entries.emplace_back(name, file);
  }
  for (auto& [file, shard_index] : shard_by_file) {
    shard_index = shards_.size();
    shards_.push_back(SafetensorsFile::open((dir / file).string()));
  }
  for (const auto& [name, file] : entries) {
    const size_t shard_index = shard_by_file.at(file);
    if (shards_[shard_index]->find_tensor(name) == nullptr) {
      fail(ErrorKind::kParse, "{}: weight_map puts '{}' in {}, which has no such tensor",
           index_path, name, shards_[shard_index]->path());
    }
    shard_of_.emplace(name, shard_index);
  }
  // Names in shard order, then file order, so a loader walks each mapping front to back.
  for (size_t s = 0; s < shards_.size(); ++s) {
    for (const SafetensorsTensorInfo& t : shards_[s]->tensors()) {
      const auto it = shard_of_.find(t.name);
      if (it != shard_of_.end() && it->second == s) names_.push_back(t.name);
    }
  }
}

std::pair<const SafetensorsTensorInfo*, const SafetensorsFile*> SafetensorsCheckpoint::find(
    std::string_view name) const {
  const auto it = shard_of_.find(std::string(name));
  if (it == shard_of_.end()) return {nullptr, nullptr};
  const SafetensorsFile* shard = shards_[it->second].get();
  return {shard->find_tensor(name), shard};
}

}  // namespace wick
