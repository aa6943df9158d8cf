// JSON from outside (base layer): every document a user or a file brings is checked for depth before
// it is parsed, and a parse error names where the text came from.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace ner4el {

/// JSON nested deeper than this is refused before it is parsed: a deep document (under any size
/// limit) would exhaust the stack of whatever walks it.
inline constexpr std::size_t kMaxJsonDepth = 128;

/// @throws FormatError "WHERE: JSON nested deeper than 128 levels (at byte N)".
void check_json_depth(std::string_view text, const std::string& where);

/// check_json_depth, then parses. where names the source in messages ("file:line", "file: header").
/// @throws FormatError "WHERE: not valid JSON (...)" or the depth error.
nlohmann::json parse_json(std::string_view text, const std::string& where);

}  // namespace ner4el
