// Text helpers every floor uses (base layer): UTF-8 repair, code-point counts and offsets, Python's
// lower-casing, and the span of a text that mention detection, linking and the front ends pass on.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ner4el {

/// Replaces each invalid UTF-8 byte by U+FFFD; valid text is returned unchanged.
std::string valid_utf8(std::string_view text);

/// Number of code points of valid UTF-8 text.
size_t code_points(std::string_view text);

/// Lower-cases like Python's str.lower(). Used for mentions and alias-table keys.
/// Invalid UTF-8 bytes become U+FFFD.
std::string lower_case(std::string_view text);

/// A span of a text. Offsets are half-open, [start, end), counted both in Unicode code points
/// (start, end: what Python's str indexing, REL and GERBIL use) and in UTF-8 bytes (byte_start,
/// byte_end). Offsets refer to the text after invalid UTF-8 bytes were replaced by U+FFFD (one per
/// bad byte), which is the text unchanged whenever it is valid UTF-8.
struct TextSpan {
  size_t start = 0, end = 0;
  size_t byte_start = 0, byte_end = 0;
  std::string mention;           ///< the text of the span
  double detection_score = 1.0;  ///< the detector's confidence (1 for spans the caller gave)
  std::string type;              ///< the NER class the tagger gave ("PER"), "" when none was given
};

/// Fills in the code-point offsets and mention of spans given by byte offsets, or the byte offsets
/// of spans given by code points (by_code_points), in text (valid UTF-8).
/// @throws InvalidArgument for a span outside the text or with start > end.
void resolve_offsets(std::string_view text, std::vector<TextSpan>& spans, bool by_code_points);

}  // namespace ner4el
