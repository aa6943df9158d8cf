#include "ner4el/text.h"

#include <utf8proc.h>

#include <algorithm>

#include "base/unicode.h"
#include "ner4el/error.h"

namespace ner4el {

std::string lower_case(std::string_view text) {
  if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    std::string out(text);  // ASCII: the common case for aliases, no decoding needed
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return out;
  }
  return text::encode_utf8(text::lower(text::decode_utf8(text)));
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  auto left = static_cast<utf8proc_ssize_t>(text.size());
  while (left > 0) {
    if (*p < 0x80) {
      out.push_back(static_cast<char>(*p++));
      --left;
      continue;
    }
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) {
      out += "\xEF\xBF\xBD";
      ++p;
      --left;
    } else {
      out.append(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
      p += n;
      left -= n;
    }
  }
  return out;
}

namespace {

/// Byte offset of every code point of valid UTF-8 text, plus text.size() at the end.
std::vector<size_t> code_point_offsets(std::string_view text) {
  std::vector<size_t> at;
  at.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) at.push_back(i);
  at.push_back(text.size());
  return at;
}

}  // namespace

size_t code_points(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

void resolve_offsets(std::string_view text, std::vector<TextSpan>& spans, bool by_code_points) {
  const auto at = code_point_offsets(text);
  const size_t n_cp = at.size() - 1;
  for (auto& s : spans) {
    if (by_code_points) {
      if (s.start > s.end || s.end > n_cp)
        throw InvalidArgument("span [" + std::to_string(s.start) + ", " + std::to_string(s.end) +
                              ") is outside the text of " + std::to_string(n_cp) + " characters");
      s.byte_start = at[s.start];
      s.byte_end = at[s.end];
    } else {
      if (s.byte_start > s.byte_end || s.byte_end > text.size())
        throw InvalidArgument("span of bytes [" + std::to_string(s.byte_start) + ", " + std::to_string(s.byte_end) +
                              ") is outside the text of " + std::to_string(text.size()) + " bytes");
      auto cp_of = [&](size_t byte) {
        auto it = std::lower_bound(at.begin(), at.end(), byte);
        if (it == at.end() || *it != byte) throw InvalidArgument("byte offset " + std::to_string(byte) + " is inside a character");
        return static_cast<size_t>(it - at.begin());
      };
      s.start = cp_of(s.byte_start);
      s.end = cp_of(s.byte_end);
    }
    s.mention = std::string(text.substr(s.byte_start, s.byte_end - s.byte_start));
  }
}

}  // namespace ner4el
