#include "fuzz_util.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace ner4el::fuzz {

std::string scratch_dir() {
  static const std::string dir = [] {
    const std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    auto d = base / ("ner4el-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d.string();
  }();
  return dir;
}

std::string write_input(const uint8_t* data, size_t size, const std::string& suffix) {
  const std::string path = scratch_dir() + "/input" + suffix;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

}  // namespace ner4el::fuzz
