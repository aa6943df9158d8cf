#include "ner4el/files.h"

namespace ner4el {

namespace fs = std::filesystem;

void replace_dir(const std::string& tmp, const std::string& dir) {
  if (!fs::exists(dir)) {
    fs::rename(tmp, dir);
    return;
  }
  const fs::path old = dir + ".old";
  fs::remove_all(old);
  fs::rename(dir, old);
  fs::rename(tmp, dir);
  fs::remove_all(old);
}

}  // namespace ner4el
