#include "ner4el/default_model.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <system_error>
#include <vector>

#include "ner4el/error.h"
#include "ner4el/json.h"

namespace ner4el {

namespace fs = std::filesystem;

namespace {
bool is_model_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p / "config.json", ec) && fs::is_regular_file(p / "vocab.txt", ec);
}

/// An installed folder: $env when set, else folder/name beside the running executable's folder
/// (build/ner4el -> models/), in the source tree this binary was built from, or under the install
/// prefix's share/ner4el; the first for which `counts` holds.
std::optional<std::string> find_installed(const char* env, const char* folder, const char* name,
                                          bool (*counts)(const fs::path&)) {
  if (const char* e = std::getenv(env); e && *e) return std::string(e);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> places;
  if (!ec) places.push_back(exe.parent_path().parent_path() / folder / name);
  places.push_back(fs::path(NER4EL_SOURCE_DIR) / folder / name);
  places.push_back(fs::path(NER4EL_DATA_DIR) / folder / name);
  for (const auto& p : places)
    if (counts(p)) return p.lexically_normal().string();
  return std::nullopt;
}

bool is_tagger_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p / "tagger.json", ec);
}
}  // namespace

std::optional<std::string> default_model_dir() { return find_installed("NER4EL_MODEL", "models", kDefaultModelName, is_model_dir); }

std::optional<std::string> default_tagger_dir() {
  return find_installed("NER4EL_TAGGER", "taggers", kDefaultTaggerName, is_tagger_dir);
}

std::string require_default_tagger(const std::string& what) {
  if (auto dir = default_tagger_dir()) return *dir;
  throw NotFound("no " + what + " given and no shipped tagger found (taggers/" + kDefaultTaggerName +
                 " of the source tree, or <prefix>/share/ner4el/taggers/); set NER4EL_TAGGER or train one with "
                 "'ner4el train-tagger'");
}

DefaultLinkerSettings default_linker_settings() {
  DefaultLinkerSettings s;
  for (const fs::path& p : {fs::path(NER4EL_DATA_DIR) / "default_linker.json", fs::path(NER4EL_SOURCE_CONF) / "default_linker.json"}) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) continue;
    std::ifstream in(p);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const nlohmann::json j = parse_json(text, p.string());
    if (!j.is_object() || !j.contains("prior_weight") || !j.contains("rank_weight") || !j["prior_weight"].is_number() ||
        !j["rank_weight"].is_number())
      throw FormatError(p.string() + ": expected a JSON object with numbers prior_weight and rank_weight");
    s.prior_weight = j["prior_weight"].get<double>();
    s.rank_weight = j["rank_weight"].get<double>();
    s.source = p.string();
    return s;
  }
  return s;
}

std::string require_default_model(const std::string& what) {
  if (auto dir = default_model_dir()) return *dir;
  throw NotFound(std::string("no ") + what + " given and no pretrained model installed: run scripts/install-deps "
                 "(it writes models/" + kDefaultModelName + "), or set NER4EL_MODEL to a Hugging Face model folder");
}

}  // namespace ner4el
