// Decoder implementations and their construction from tokenizer.json.
#include "tokenizer/decoder.h"

#include "tokenizer/regex.h"
#include "tokenizer/utf8.h"

namespace wick::tok {
namespace {

class ByteLevel : public Decoder {
 public:
  // Each token maps back to bytes through the byte-level alphabet; a token with a character
  // outside it (an added token such as "<|im_start|>" is fine, "é" is not) keeps its own bytes.
  void decode_chain(std::vector<std::string>& tokens) const override {
    const ByteLevelTable& table = byte_level_table();
    std::string bytes;
    for (const std::string& t : tokens) {
      const size_t mark = bytes.size();
      bool mapped = true;
      for (size_t i = 0; i < t.size() && mapped;) {
        const char32_t cp = utf8_next(t, i);
        const int b = cp < table.char_to_byte.size() ? table.char_to_byte[cp] : -1;
        if (b < 0)
          mapped = false;
        else
          bytes += static_cast<char>(b);
      }
      if (!mapped) {
        bytes.resize(mark);
        bytes += t;
      }
    }
    tokens.assign(1, utf8_lossy(bytes));
  }
};

class Replace : public Decoder {
 public:
  Replace(const JsonPattern& p, std::string content)
      : pattern_(p.text, p.is_regex), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& t : tokens) t = pattern_.replace_all(t, content_);
  }

 private:
  Pattern pattern_;
  std::string content_;
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class ByteFallback : public Decoder {
 public:
  // Runs of "<0xNN>" tokens become their bytes when those form valid UTF-8; otherwise each byte
  // of the run becomes one U+FFFD.
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string run;
    size_t run_len = 0;
    const auto flush = [&] {
      if (run_len == 0) return;
      if (utf8_invalid_offset(run) == std::string::npos) {
        out.push_back(run);
      } else {
        for (size_t k = 0; k < run_len; ++k) out.push_back("\xEF\xBF\xBD");
      }
      run.clear();
      run_len = 0;
    };
    for (std::string& t : tokens) {
      const int hi = t.size() == 6 && t.starts_with("<0x") && t[5] == '>' ? hex_digit(t[3]) : -1;
      const int lo = hi >= 0 ? hex_digit(t[4]) : -1;
      if (lo >= 0) {
        run += static_cast<char>(hi * 16 + lo);
        ++run_len;
        continue;
      }
      flush();
      out.push_back(std::move(t));
    }
    flush();
    tokens = std::move(out);
  }
};

class Fuse : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const std::string& t : tokens) all += t;
    tokens.assign(1, std::move(all));
  }
};

class Strip : public Decoder {
 public:
  Strip(char32_t content, size_t start, size_t stop)
      : content_(content), start_(start), stop_(stop) {}
  // Removes up to `start` leading and `stop` trailing `content` characters from every token.
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& t : tokens) {
      std::vector<size_t> bounds;  // byte offset of every character, then the end
      for (size_t i = 0; i < t.size(); utf8_next(t, i)) bounds.push_back(i);
      const size_t n = bounds.size();
      bounds.push_back(t.size());
      const auto char_at = [&](size_t k) {
        size_t i = bounds[k];
        return utf8_next(t, i);
      };
      size_t first = 0, last = n;
      while (first < std::min(start_, n) && char_at(first) == content_) ++first;
      for (size_t k = 0; k < stop_ && last > first && char_at(last - 1) == content_; ++k) --last;
      t = t.substr(bounds[first], bounds[last] - bounds[first]);
    }
  }

 private:
  char32_t content_;
  size_t start_, stop_;
};

class Metaspace : public Decoder {
 public:
  Metaspace(std::string replacement, bool strip_first)
      : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t k = 0; k < tokens.size(); ++k) {
      std::string out;
      const std::string& t = tokens[k];
      for (size_t pos = 0; pos < t.size();) {
        if (t.compare(pos, replacement_.size(), replacement_) == 0) {
          if (!(k == 0 && strip_first_)) out += ' ';
          pos += replacement_.size();
        } else {
          out += t[pos++];
        }
      }
      tokens[k] = std::move(out);
    }
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

class WordPiece : public Decoder {
 public:
  WordPiece(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void decode_chain(std::vector<std::string>& tokens) const override;

 private:
  std::string prefix_;
  bool cleanup_;
};

// BERT-era detokenization fixes: " ." -> ".", " n't" -> "n't", ...
std::string cleanup_tokenization(std::string s) {
  static const std::pair<const char*, const char*> kRules[] = {
      {" .", "."},   {" ?", "?"},     {" !", "!"},    {" ,", ","},
      {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},  {" do not", " don't"},
      {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) s = Pattern(from, false).replace_all(s, to);
  return s;
}

void WordPiece::decode_chain(std::vector<std::string>& tokens) const {
  for (size_t k = 0; k < tokens.size(); ++k) {
    std::string& t = tokens[k];
    if (k > 0) {
      if (t.starts_with(prefix_))
        t.erase(0, prefix_.size());
      else
        t = std::string(1, ' ').append(t);
    }
    if (cleanup_) t = cleanup_tokenization(std::move(t));
  }
}

class BpeSuffix : public Decoder {
 public:
  explicit BpeSuffix(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t k = 0; k < tokens.size(); ++k) {
      tokens[k] = Pattern(suffix_, false).replace_all(tokens[k], k + 1 == tokens.size() ? "" : " ");
    }
  }

 private:
  std::string suffix_;
};

class Sequence : public Decoder {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Decoder>> steps) : steps_(std::move(steps)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& step : steps_) step->decode_chain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

char32_t single_char(const std::string& s, std::string_view where) {
  if (s.empty() || utf8_sequence_length(s, 0) != s.size())
    fail(ErrorKind::kParse, "tokenizer.json: {}.content must be one character", where);
  size_t i = 0;
  return utf8_next(s, i);
}

}  // namespace

std::unique_ptr<Decoder> make_decoder(const Json& j, std::string_view where) {
  if (j.is_null()) return nullptr;
  const std::string type = json_string(j, "type", where);
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Decoder>> steps;
    const Json& list = json_array(j, "decoders", where);
    for (size_t i = 0; i < list.size(); ++i) {
      auto step = make_decoder(list[i], fmt::format("{}.decoders[{}]", where, i));
      if (step) steps.push_back(std::move(step));
    }
    return std::make_unique<Sequence>(std::move(steps));
  }
  if (type == "ByteLevel") return std::make_unique<ByteLevel>();
  if (type == "Replace")
    return std::make_unique<Replace>(json_pattern(j, where), json_string(j, "content", where));
  if (type == "ByteFallback") return std::make_unique<ByteFallback>();
  if (type == "Fuse") return std::make_unique<Fuse>();
  if (type == "Strip") {
    const int64_t start = json_int(j, "start", where), stop = json_int(j, "stop", where);
    if (start < 0 || stop < 0)
      fail(ErrorKind::kParse, "tokenizer.json: {}: negative strip count", where);
    return std::make_unique<Strip>(single_char(json_string(j, "content", where), where),
                                   static_cast<size_t>(start), static_cast<size_t>(stop));
  }
  if (type == "Metaspace") {
    const std::string scheme = json_string_or(j, "prepend_scheme", "", where);
    const bool strip_first =
        scheme.empty() ? json_bool_or(j, "add_prefix_space", true, where) : scheme != "never";
    return std::make_unique<Metaspace>(json_string_or(j, "replacement", "\xE2\x96\x81", where),
                                       strip_first);
  }
  if (type == "WordPiece")
    return std::make_unique<WordPiece>(json_string_or(j, "prefix", "##", where),
                                       json_bool_or(j, "cleanup", true, where));
  if (type == "BPEDecoder")
    return std::make_unique<BpeSuffix>(json_string_or(j, "suffix", "</w>", where));
  fail(ErrorKind::kUnsupported, "tokenizer.json: {}: decoder type '{}' is not supported", where,
       type);
}

}  // namespace wick::tok
