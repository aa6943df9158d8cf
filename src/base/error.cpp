#include "ner4el/error.h"

namespace ner4el {

std::string location(const std::string& file, std::size_t line, const std::string& field) {
  std::string out;
  out.reserve(file.size() + field.size() + 32);
  out.append(file);
  if (line > 0) out.append(":").append(std::to_string(line));
  if (!field.empty()) out.append(": field '").append(field).append("'");
  return out;
}

}  // namespace ner4el
