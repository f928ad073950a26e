// GGUF parser: one forward pass over the bytes with a bounds-checked cursor. Counts are bounded by
// the bytes left before anything is reserved, so a lying count fails fast instead of allocating.
#include "formats/gguf.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <utility>

#include "core/error.h"
#include "core/mapped_file.h"

namespace wick {

static_assert(std::endian::native == std::endian::little,
              "GGUF reader assumes a little-endian host");

namespace {

// ggml_type_traits: block size and bytes per block of every assigned ggml type id.
constexpr std::array<GgmlTypeInfo, 32> kGgmlTypes = {{
    {0, "f32", 1, 4},         {1, "f16", 1, 2},         {2, "q4_0", 32, 18},
    {3, "q4_1", 32, 20},      {6, "q5_0", 32, 22},      {7, "q5_1", 32, 24},
    {8, "q8_0", 32, 34},      {9, "q8_1", 32, 36},      {10, "q2_k", 256, 84},
    {11, "q3_k", 256, 110},   {12, "q4_k", 256, 144},   {13, "q5_k", 256, 176},
    {14, "q6_k", 256, 210},   {15, "q8_k", 256, 292},   {16, "iq2_xxs", 256, 66},
    {17, "iq2_xs", 256, 74},  {18, "iq3_xxs", 256, 98}, {19, "iq1_s", 256, 50},
    {20, "iq4_nl", 32, 18},   {21, "iq3_s", 256, 110},  {22, "iq2_s", 256, 82},
    {23, "iq4_xs", 256, 136}, {24, "i8", 1, 1},         {25, "i16", 1, 2},
    {26, "i32", 1, 4},        {27, "i64", 1, 8},        {28, "f64", 1, 8},
    {29, "iq1_m", 256, 56},   {30, "bf16", 1, 2},       {34, "tq1_0", 256, 54},
    {35, "tq2_0", 256, 66},   {39, "mxfp4", 32, 17},
}};

constexpr uint64_t kMinKvBytes = 8 + 4 + 1;              // empty key, type, one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // empty name, n_dims = 0, type, offset

bool is_power_of_two(uint64_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

}  // namespace

const char* gguf_type_name(GgufType type) {
  static constexpr std::array<const char*, 13> kNames = {"u8",  "i8",  "u16",  "i16",    "u32",
                                                         "i32", "f32", "bool", "string", "array",
                                                         "u64", "i64", "f64"};
  const auto index = static_cast<size_t>(type);
  return index < kNames.size() ? kNames[index] : "unknown";
}

size_t gguf_type_size(GgufType type) {
  switch (type) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kBool:
      return 1;
    case GgufType::kU16:
    case GgufType::kI16:
      return 2;
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kF32:
      return 4;
    case GgufType::kU64:
    case GgufType::kI64:
    case GgufType::kF64:
      return 8;
    case GgufType::kString:
    case GgufType::kArray:
      return 0;
  }
  return 0;
}

bool gguf_type_is_integer(GgufType type) {
  switch (type) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kU16:
    case GgufType::kI16:
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kU64:
    case GgufType::kI64:
    case GgufType::kBool:
      return true;
    default:
      return false;
  }
}

static bool gguf_type_is_signed(GgufType type) {
  return type == GgufType::kI8 || type == GgufType::kI16 || type == GgufType::kI32 ||
         type == GgufType::kI64;
}

const GgmlTypeInfo* ggml_type_info(uint32_t ggml_type) {
  for (const GgmlTypeInfo& info : kGgmlTypes) {
    if (info.id == ggml_type) return &info;
  }
  return nullptr;
}

// ---- GgufValue ----

std::optional<int64_t> GgufValue::as_i64() const {
  if (!is_integer()) return std::nullopt;
  if (gguf_type_is_signed(type)) return static_cast<int64_t>(int_bits);
  if (int_bits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(int_bits);
}

std::optional<uint64_t> GgufValue::as_u64() const {
  if (!is_integer()) return std::nullopt;
  if (gguf_type_is_signed(type) && static_cast<int64_t>(int_bits) < 0) return std::nullopt;
  return int_bits;
}

namespace {

// Decodes one little-endian fixed-size element as (sign-extended) integer bits or a double.
template <class T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

uint64_t decode_int_bits(GgufType type, const uint8_t* p) {
  switch (type) {
    case GgufType::kU8:
      return load<uint8_t>(p);
    case GgufType::kI8:
      return static_cast<uint64_t>(static_cast<int64_t>(load<int8_t>(p)));
    case GgufType::kU16:
      return load<uint16_t>(p);
    case GgufType::kI16:
      return static_cast<uint64_t>(static_cast<int64_t>(load<int16_t>(p)));
    case GgufType::kU32:
      return load<uint32_t>(p);
    case GgufType::kI32:
      return static_cast<uint64_t>(static_cast<int64_t>(load<int32_t>(p)));
    case GgufType::kU64:
      return load<uint64_t>(p);
    case GgufType::kI64:
      return load<uint64_t>(p);
    case GgufType::kBool:
      return load<uint8_t>(p) != 0 ? 1 : 0;
    default:
      return 0;
  }
}

double decode_float(GgufType type, const uint8_t* p) {
  if (type == GgufType::kF32) return load<float>(p);
  if (type == GgufType::kF64) return load<double>(p);
  const uint64_t bits = decode_int_bits(type, p);
  return gguf_type_is_signed(type) ? static_cast<double>(static_cast<int64_t>(bits))
                                   : static_cast<double>(bits);
}

}  // namespace

double GgufValue::float_at(uint64_t i) const {
  const size_t size = gguf_type_size(elem_type);
  WICK_ASSERT(size != 0 && i < count);
  return decode_float(elem_type, raw.data() + i * size);
}

int64_t GgufValue::int_at(uint64_t i) const {
  const size_t size = gguf_type_size(elem_type);
  WICK_ASSERT(size != 0 && i < count);
  return static_cast<int64_t>(decode_int_bits(elem_type, raw.data() + i * size));
}

// ---- parser ----

class GgufParser {
 public:
  explicit GgufParser(GgufFile& file) : file_(file), bytes_(file.bytes_) {}

  void parse() {
    parse_header();
    for (uint64_t i = 0; i < kv_count_; ++i) parse_kv(i);
    parse_alignment();
    for (uint64_t i = 0; i < tensor_count_; ++i) parse_tensor_info(i);
    parse_data_section();
  }

 private:
  [[noreturn]] void fail_at(uint64_t offset, std::string_view what, const std::string& detail) {
    fail(ErrorKind::kParse, "{}: {}{} at byte {}: {}", file_.path_, context_, what, offset, detail);
  }

  uint64_t remaining() const { return bytes_.size() - pos_; }

  void need(uint64_t n, std::string_view what) {
    if (n > remaining()) {
      fail_at(pos_, what,
              fmt::format("needs {} bytes but only {} remain (truncated file?)", n, remaining()));
    }
  }

  template <class T>
  T read(std::string_view what) {
    need(sizeof(T), what);
    const T v = load<T>(bytes_.data() + pos_);
    pos_ += sizeof(T);
    return v;
  }

  std::string_view read_string(std::string_view what) {
    const uint64_t at = pos_;
    const uint64_t length = read<uint64_t>(what);
    if (length > remaining()) {
      fail_at(at, what,
              fmt::format("string length {} exceeds the {} bytes left in the file", length,
                          remaining()));
    }
    std::string_view s(reinterpret_cast<const char*>(bytes_.data() + pos_), length);
    pos_ += length;
    return s;
  }

  GgufType read_type(std::string_view what) {
    const uint64_t at = pos_;
    const uint32_t id = read<uint32_t>(what);
    if (id > static_cast<uint32_t>(GgufType::kF64)) {
      fail_at(at, what, fmt::format("unknown value type {}", id));
    }
    return static_cast<GgufType>(id);
  }

  void parse_header() {
    const uint32_t magic = read<uint32_t>("magic");
    if (magic != kGgufMagic) {
      fail_at(0, "magic",
              fmt::format("not a GGUF file (first bytes {:08x}, expected 'GGUF')",
                          __builtin_bswap32(magic)));
    }
    file_.version_ = read<uint32_t>("version");
    const uint32_t v = file_.version_;
    if (v == 1) {
      fail(ErrorKind::kUnsupported, "{}: GGUF version 1 is not supported (convert to v3)",
           file_.path_);
    }
    if (v != 2 && v != 3) {
      const bool swapped = (v & 0xffff) == 0 && __builtin_bswap32(v) <= 3;
      fail_at(4, "version",
              swapped ? std::string("big-endian GGUF files are not supported")
                      : fmt::format("unsupported GGUF version {}", v));
    }
    const uint64_t tensor_at = pos_;
    tensor_count_ = read<uint64_t>("tensor count");
    kv_count_ = read<uint64_t>("metadata count");
    if (kv_count_ > remaining() / kMinKvBytes) {
      fail_at(tensor_at + 8, "metadata count",
              fmt::format("{} entries cannot fit in the {} bytes left", kv_count_, remaining()));
    }
    if (tensor_count_ > remaining() / kMinTensorInfoBytes) {
      fail_at(
          tensor_at, "tensor count",
          fmt::format("{} tensors cannot fit in the {} bytes left", tensor_count_, remaining()));
    }
    file_.kvs_.reserve(kv_count_);
    file_.tensors_.reserve(tensor_count_);
  }

  void parse_kv(uint64_t index) {
    context_ = fmt::format("metadata entry {}: ", index);
    GgufKeyValue kv;
    kv.file_offset = pos_;
    kv.key = read_string("key");
    context_ = fmt::format("metadata '{}': ", kv.key);
    const GgufType type = read_type("value type");
    read_value(kv.value, type, 0);
    if (!file_.kv_index_.emplace(kv.key, file_.kvs_.size()).second) {
      fail_at(kv.file_offset, "key", "duplicate metadata key");
    }
    file_.kvs_.push_back(std::move(kv));
    context_.clear();
  }

  void read_value(GgufValue& out, GgufType type, int depth) {
    out.type = type;
    if (type == GgufType::kString) {
      out.string = read_string("string value");
    } else if (type == GgufType::kArray) {
      read_array(out, depth);
    } else {
      const size_t size = gguf_type_size(type);
      need(size, "value");
      const uint8_t* p = bytes_.data() + pos_;
      if (type == GgufType::kF32 || type == GgufType::kF64) {
        out.float_value = decode_float(type, p);
      } else {
        out.int_bits = decode_int_bits(type, p);
      }
      pos_ += size;
    }
  }

  void read_array(GgufValue& out, int depth) {
    const uint64_t at = pos_;
    if (depth >= kGgufMaxArrayNesting) {
      fail_at(at, "array", fmt::format("nested deeper than {} levels", kGgufMaxArrayNesting));
    }
    out.elem_type = read_type("array element type");
    out.count = read<uint64_t>("array count");
    const size_t fixed = gguf_type_size(out.elem_type);
    const uint64_t min_elem = fixed != 0 ? fixed : (out.elem_type == GgufType::kString ? 8 : 12);
    if (out.count > remaining() / min_elem) {
      fail_at(at + 4, "array count",
              fmt::format("{} elements of {} cannot fit in the {} bytes left", out.count,
                          gguf_type_name(out.elem_type), remaining()));
    }
    if (fixed != 0) {
      out.raw = bytes_.subspan(pos_, out.count * fixed);
      pos_ += out.count * fixed;
    } else if (out.elem_type == GgufType::kString) {
      out.strings.reserve(out.count);
      for (uint64_t i = 0; i < out.count; ++i) out.strings.push_back(read_string("array string"));
    } else {
      out.arrays.resize(out.count);
      for (GgufValue& item : out.arrays) read_value(item, GgufType::kArray, depth + 1);
    }
  }

  void parse_alignment() {
    const auto it = file_.kv_index_.find("general.alignment");
    if (it == file_.kv_index_.end()) return;
    const GgufKeyValue& kv = file_.kvs_[it->second];
    context_ = "metadata 'general.alignment': ";
    if (kv.value.type != GgufType::kU32) {
      fail_at(kv.file_offset, "value",
              fmt::format("must be u32, found {}", gguf_type_name(kv.value.type)));
    }
    if (!is_power_of_two(kv.value.int_bits)) {
      fail_at(kv.file_offset, "value",
              fmt::format("alignment {} is not a non-zero power of two", kv.value.int_bits));
    }
    file_.alignment_ = static_cast<uint32_t>(kv.value.int_bits);
    context_.clear();
  }

  void parse_tensor_info(uint64_t index) {
    context_ = fmt::format("tensor info {}: ", index);
    GgufTensorInfo info;
    const uint64_t info_at = pos_;
    info.name = read_string("name");
    context_ = fmt::format("tensor '{}': ", info.name);
    const uint64_t dims_at = pos_;
    const uint32_t n_dims = read<uint32_t>("n_dims");
    if (n_dims > static_cast<uint32_t>(kGgufMaxDims)) {
      fail_at(dims_at, "n_dims",
              fmt::format("{} dimensions exceed the maximum of {}", n_dims, kGgufMaxDims));
    }
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t at = pos_;
      const uint64_t extent = read<uint64_t>("dimension");
      if (extent > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          __builtin_mul_overflow(n_elements, extent, &n_elements) ||
          n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        fail_at(at, "dimension",
                fmt::format("ne[{}] = {} makes the element count overflow", d, extent));
      }
      info.ne.push_back(extent);
    }
    info.shape.assign(info.ne.rbegin(), info.ne.rend());
    info.n_elements = n_elements;
    parse_tensor_type(info);
    const uint64_t offset_at = pos_;
    info.offset = read<uint64_t>("data offset");
    if (info.offset % file_.alignment_ != 0) {
      fail_at(
          offset_at, "data offset",
          fmt::format("{} is not a multiple of the alignment {}", info.offset, file_.alignment_));
    }
    if (!file_.tensor_index_.emplace(info.name, file_.tensors_.size()).second) {
      fail_at(info_at, "name", "duplicate tensor name");
    }
    info_offsets_.push_back(offset_at);
    file_.tensors_.push_back(std::move(info));
    context_.clear();
  }

  void parse_tensor_type(GgufTensorInfo& info) {
    const uint64_t at = pos_;
    info.ggml_type = read<uint32_t>("type");
    const GgmlTypeInfo* type = ggml_type_info(info.ggml_type);
    if (type == nullptr) fail_at(at, "type", fmt::format("unknown ggml type {}", info.ggml_type));
    info.type_name = type->name;
    info.dtype = dtype_from_ggml_type(info.ggml_type);
    const uint64_t columns = info.ne.empty() ? 1 : info.ne[0];
    if (columns % type->block_size != 0) {
      fail_at(at, "type",
              fmt::format("ne[0] = {} is not a multiple of the {} block size {}", columns,
                          type->name, type->block_size));
    }
    // n_elements < 2^63 and block_bytes <= 292 * block_size, so this cannot overflow 64 bits.
    info.n_bytes = info.n_elements / type->block_size * type->block_bytes;
  }

  void parse_data_section() {
    const uint64_t alignment = file_.alignment_;
    const uint64_t padded = (pos_ + alignment - 1) / alignment * alignment;  // pos_ < 2^63
    file_.data_offset_ = padded;
    if (file_.tensors_.empty()) return;
    if (padded > bytes_.size()) {
      fail_at(pos_, "data section",
              fmt::format("aligned start {} is beyond the end of the file ({} bytes)", padded,
                          bytes_.size()));
    }
    const uint64_t data_bytes = bytes_.size() - padded;
    std::vector<size_t> order(file_.tensors_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (size_t i = 0; i < order.size(); ++i) {
      GgufTensorInfo& info = file_.tensors_[i];
      context_ = fmt::format("tensor '{}': ", info.name);
      if (info.offset > data_bytes || info.n_bytes > data_bytes - info.offset) {
        fail_at(info_offsets_[i], "data offset",
                fmt::format("data [{}, +{}) ends past the {} bytes of the data section at {}",
                            info.offset, info.n_bytes, data_bytes, padded));
      }
      info.file_offset = padded + info.offset;
    }
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return file_.tensors_[a].offset < file_.tensors_[b].offset;
    });
    for (size_t k = 1; k < order.size(); ++k) {
      const GgufTensorInfo& prev = file_.tensors_[order[k - 1]];
      const GgufTensorInfo& cur = file_.tensors_[order[k]];
      if (cur.offset < prev.offset + prev.n_bytes) {
        context_ = fmt::format("tensor '{}': ", cur.name);
        fail_at(info_offsets_[order[k]], "data offset",
                fmt::format("data at {} overlaps tensor '{}' at [{}, {})", cur.offset, prev.name,
                            prev.offset, prev.offset + prev.n_bytes));
      }
    }
    context_.clear();
  }

  GgufFile& file_;
  std::span<const uint8_t> bytes_;
  uint64_t pos_ = 0;
  uint64_t kv_count_ = 0;
  uint64_t tensor_count_ = 0;
  std::string context_;
  std::vector<uint64_t> info_offsets_;  // file offset of each tensor's data-offset field
};

// ---- GgufFile ----

std::shared_ptr<GgufFile> GgufFile::open(const std::string& path) {
  std::shared_ptr<MappedFile> mapped = MappedFile::open(path);
  const std::span<const uint8_t> bytes = mapped->bytes();
  std::shared_ptr<GgufFile> file = open_bytes(bytes, path, std::move(mapped));
  file->file_mapped_ = true;
  return file;
}

std::shared_ptr<GgufFile> GgufFile::open_bytes(std::span<const uint8_t> bytes, std::string name,
                                               std::shared_ptr<const void> keepalive) {
  std::shared_ptr<GgufFile> file(new GgufFile());
  file->path_ = std::move(name);
  file->bytes_ = bytes;
  file->keepalive_ = std::move(keepalive);
  GgufParser(*file).parse();
  return file;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  const auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second].value;
}

std::string_view GgufFile::architecture() const {
  const GgufValue* v = find("general.architecture");
  return v != nullptr && v->type == GgufType::kString ? v->string : std::string_view();
}

const GgufValue& GgufFile::require(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) fail(ErrorKind::kNotFound, "{}: metadata key '{}' not found", path_, key);
  return *v;
}

namespace {

template <class T>
T convert_int(const GgufValue& v, const std::string& path, std::string_view key) {
  if (!v.is_integer() || v.type == GgufType::kBool) {
    fail(ErrorKind::kParse, "{}: metadata '{}' is {}, expected an integer", path, key,
         gguf_type_name(v.type));
  }
  const bool fits = std::numeric_limits<T>::is_signed
                        ? v.as_i64() && *v.as_i64() >= std::numeric_limits<T>::min() &&
                              *v.as_i64() <= std::numeric_limits<T>::max()
                        : v.as_u64() && *v.as_u64() <= std::numeric_limits<T>::max();
  if (!fits) {
    fail(ErrorKind::kParse, "{}: metadata '{}' ({}) value does not fit the requested type", path,
         key, gguf_type_name(v.type));
  }
  return std::numeric_limits<T>::is_signed ? static_cast<T>(*v.as_i64())
                                           : static_cast<T>(*v.as_u64());
}

double convert_float(const GgufValue& v, const std::string& path, std::string_view key) {
  if (!v.is_float()) {
    fail(ErrorKind::kParse, "{}: metadata '{}' is {}, expected f32 or f64", path, key,
         gguf_type_name(v.type));
  }
  return v.float_value;
}

}  // namespace

uint32_t GgufFile::get_u32(std::string_view key) const {
  return convert_int<uint32_t>(require(key), path_, key);
}
int32_t GgufFile::get_i32(std::string_view key) const {
  return convert_int<int32_t>(require(key), path_, key);
}
uint64_t GgufFile::get_u64(std::string_view key) const {
  return convert_int<uint64_t>(require(key), path_, key);
}
int64_t GgufFile::get_i64(std::string_view key) const {
  return convert_int<int64_t>(require(key), path_, key);
}
float GgufFile::get_f32(std::string_view key) const {
  return static_cast<float>(convert_float(require(key), path_, key));
}
double GgufFile::get_f64(std::string_view key) const {
  return convert_float(require(key), path_, key);
}

bool GgufFile::get_bool(std::string_view key) const {
  const GgufValue& v = require(key);
  if (v.type != GgufType::kBool) {
    fail(ErrorKind::kParse, "{}: metadata '{}' is {}, expected bool", path_, key,
         gguf_type_name(v.type));
  }
  return v.int_bits != 0;
}

std::string_view GgufFile::get_string(std::string_view key) const {
  const GgufValue& v = require(key);
  if (v.type != GgufType::kString) {
    fail(ErrorKind::kParse, "{}: metadata '{}' is {}, expected string", path_, key,
         gguf_type_name(v.type));
  }
  return v.string;
}

uint32_t GgufFile::get_u32_or(std::string_view key, uint32_t fallback) const {
  return find(key) != nullptr ? get_u32(key) : fallback;
}
float GgufFile::get_f32_or(std::string_view key, float fallback) const {
  return find(key) != nullptr ? get_f32(key) : fallback;
}
bool GgufFile::get_bool_or(std::string_view key, bool fallback) const {
  return find(key) != nullptr ? get_bool(key) : fallback;
}
std::string_view GgufFile::get_string_or(std::string_view key, std::string_view fallback) const {
  return find(key) != nullptr ? get_string(key) : fallback;
}

const GgufValue& GgufFile::require_array(std::string_view key, const char* wanted) const {
  const GgufValue& v = require(key);
  if (!v.is_array()) {
    fail(ErrorKind::kParse, "{}: metadata '{}' is {}, expected an array of {}", path_, key,
         gguf_type_name(v.type), wanted);
  }
  return v;
}

std::span<const std::string_view> GgufFile::get_string_array(std::string_view key) const {
  const GgufValue& v = require_array(key, "string");
  if (v.elem_type != GgufType::kString) {
    fail(ErrorKind::kParse, "{}: metadata '{}' is an array of {}, expected string", path_, key,
         gguf_type_name(v.elem_type));
  }
  return v.strings;
}

std::vector<float> GgufFile::get_f32_array(std::string_view key) const {
  const GgufValue& v = require_array(key, "f32");
  if (gguf_type_size(v.elem_type) == 0) {
    fail(ErrorKind::kParse, "{}: metadata '{}' is an array of {}, expected numbers", path_, key,
         gguf_type_name(v.elem_type));
  }
  std::vector<float> out(v.count);
  if (v.elem_type == GgufType::kF32) {
    std::memcpy(out.data(), v.raw.data(), v.raw.size());
  } else {
    for (uint64_t i = 0; i < v.count; ++i) out[i] = static_cast<float>(v.float_at(i));
  }
  return out;
}

template <class T>
std::vector<T> GgufFile::get_int_array(std::string_view key, const char* wanted) const {
  const GgufValue& v = require_array(key, wanted);
  if (!gguf_type_is_integer(v.elem_type) || v.elem_type == GgufType::kBool) {
    fail(ErrorKind::kParse, "{}: metadata '{}' is an array of {}, expected {}", path_, key,
         gguf_type_name(v.elem_type), wanted);
  }
  const bool is_signed = gguf_type_is_signed(v.elem_type);
  std::vector<T> out(v.count);
  for (uint64_t i = 0; i < v.count; ++i) {
    const uint64_t bits =
        decode_int_bits(v.elem_type, v.raw.data() + i * gguf_type_size(v.elem_type));
    const bool fits =
        is_signed ? std::in_range<T>(static_cast<int64_t>(bits)) : std::in_range<T>(bits);
    if (!fits) {
      fail(ErrorKind::kParse, "{}: metadata '{}' element {} does not fit {}", path_, key, i,
           wanted);
    }
    out[i] = is_signed ? static_cast<T>(static_cast<int64_t>(bits)) : static_cast<T>(bits);
  }
  return out;
}

std::vector<int32_t> GgufFile::get_i32_array(std::string_view key) const {
  return get_int_array<int32_t>(key, "i32");
}
std::vector<uint32_t> GgufFile::get_u32_array(std::string_view key) const {
  return get_int_array<uint32_t>(key, "u32");
}
std::vector<int64_t> GgufFile::get_i64_array(std::string_view key) const {
  return get_int_array<int64_t>(key, "i64");
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const uint8_t> GgufFile::tensor_bytes(const GgufTensorInfo& info) const {
  WICK_CHECK(info.file_offset <= bytes_.size() && info.n_bytes <= bytes_.size() - info.file_offset,
             ErrorKind::kInvalidArgument, "{}: tensor '{}' is not a tensor of this file", path_,
             info.name);
  return bytes_.subspan(info.file_offset, info.n_bytes);
}

}  // namespace wick
