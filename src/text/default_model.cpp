#include "ner4el/default_model.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

#include "ner4el/error.h"

namespace ner4el {

namespace fs = std::filesystem;

namespace {
bool is_model_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p / "config.json", ec) && fs::is_regular_file(p / "vocab.txt", ec);
}
}  // namespace

std::optional<std::string> default_model_dir() {
  if (const char* env = std::getenv("NER4EL_MODEL"); env && *env) return std::string(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> places;
  if (!ec) places.push_back(exe.parent_path().parent_path() / "models" / kDefaultModelName);
  places.push_back(fs::path(NER4EL_SOURCE_DIR) / "models" / kDefaultModelName);
  places.push_back(fs::path(NER4EL_DATA_DIR) / "models" / kDefaultModelName);
  for (const auto& p : places)
    if (is_model_dir(p)) return p.lexically_normal().string();
  return std::nullopt;
}

std::string require_default_model(const std::string& what) {
  if (auto dir = default_model_dir()) return *dir;
  throw NotFound(std::string("no ") + what + " given and no pretrained model installed: run scripts/install-deps "
                 "(it writes models/" + kDefaultModelName + "), or set NER4EL_MODEL to a Hugging Face model folder");
}

}  // namespace ner4el
