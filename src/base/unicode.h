// Unicode helpers shared by the tokenizer and the knowledge base (internal header).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ner4el::text {

/// Decodes UTF-8; an invalid byte sequence becomes one U+FFFD per bad byte.
std::vector<char32_t> decode_utf8(std::string_view s);
void append_utf8(std::string& out, char32_t cp);
std::string encode_utf8(const std::vector<char32_t>& cps);

/// Python's str.lower(): full lower-casing (U+0130 -> "i\u0307", final sigma).
/// final_sigma = false lower-cases one character at a time, as Hugging Face's BertTokenizer does
/// (its do_lower_case pass lowers each character alone, so a final capital sigma gives σ, not ς).
std::vector<char32_t> lower(const std::vector<char32_t>& cps, bool final_sigma = true);

/// Canonical decomposition (NFD) with every Mn (nonspacing mark) removed: BERT's accent stripping.
std::vector<char32_t> strip_accents(const std::vector<char32_t>& cps);

bool is_whitespace(char32_t cp);   // BERT + str.split(): space, \t, \n, \r, categories Zs, Zl, Zp
bool is_control(char32_t cp);      // BERT: category C*, except \t, \n, \r
bool is_punctuation(char32_t cp);  // BERT: ASCII symbol ranges, category P*
bool is_cjk(char32_t cp);          // BERT: CJK Unified Ideographs blocks

}  // namespace ner4el::text
