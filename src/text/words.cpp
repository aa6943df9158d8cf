#include "ner4el/words.h"

#include <cstdint>

#include "base/unicode.h"

namespace ner4el {

namespace {
/// Decodes the code point at s[i] (valid UTF-8) and its length in bytes.
char32_t next_code_point(std::string_view s, size_t i, size_t& len) {
  const auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) {
    len = 1;
    return b;
  }
  len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
  if (i + len > s.size()) {  // not valid UTF-8: one byte, one (replacement) character
    len = 1;
    return 0xFFFD;
  }
  char32_t cp = b & (0x3F >> (len - 1));
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}
}  // namespace

std::vector<Word> split_words(std::string_view text) {
  std::vector<Word> words;
  bool open = false;
  size_t cp = 0;
  for (size_t i = 0; i < text.size(); ++cp) {
    size_t len = 1;
    const char32_t c = next_code_point(text, i, len);
    const bool space = text::is_whitespace(c), control = !space && (c == 0 || c == 0xFFFD || text::is_control(c));
    const bool alone = !space && !control && (text::is_punctuation(c) || text::is_cjk(c));
    if (space || control || alone) open = false;
    if (alone) {
      words.push_back({cp, cp + 1, i, i + len});
    } else if (!space && !control) {
      if (!open) words.push_back({cp, cp, i, i});
      open = true;
      words.back().end = cp + 1;
      words.back().byte_end = i + len;
    }
    i += len;
  }
  return words;
}

int word_shape(std::string_view word) {
  size_t upper = 0, lower = 0, digit = 0, punct = 0, other = 0, n = 0;
  bool first_upper = false;
  for (size_t i = 0; i < word.size(); ++n) {
    size_t len = 1;
    const char32_t c = next_code_point(word, i, len);
    i += len;
    const auto lc = text::lower({c});
    const bool is_lower_form = lc.size() == 1 && lc[0] == c;
    if (c < 0x80 && c >= '0' && c <= '9') {
      ++digit;
    } else if (text::is_punctuation(c)) {
      ++punct;
    } else if (!is_lower_form) {
      ++upper;
      if (n == 0) first_upper = true;
    } else if (c >= 0x80 || (c >= 'a' && c <= 'z')) {
      ++lower;
    } else {
      ++other;
    }
  }
  if (n == 0) return 8;
  if (punct == n) return 7;
  if (digit == n) return 5;
  if (digit > 0 && upper + lower > 0) return 6;
  if (upper == 0 && lower > 0) return 0;
  if (upper == 1 && lower == 0 && n == 1) return 3;
  if (upper > 1 && lower == 0) return 2;
  if (first_upper && upper == 1 && lower > 0) return 1;
  if (upper > 0 && lower > 0) return 4;
  return 8;
}

}  // namespace ner4el
