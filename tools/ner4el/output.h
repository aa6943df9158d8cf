// Where a command writes: a file written whole (to FILE.tmp, renamed at the end; removed if the
// command fails half-way), or standard output.
#pragma once

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <system_error>

#include "ner4el/error.h"

namespace ner4el::cli {

class OutputFile {
 public:
  /// path empty: standard output. @throws Error when FILE.tmp cannot be written (e.g. a directory).
  explicit OutputFile(std::string path) : path_(std::move(path)) {
    if (path_.empty()) return;
    if (std::filesystem::is_directory(path_)) throw InvalidArgument("output " + path_ + " is a directory");
    tmp_ = path_ + ".tmp";
    file_.open(tmp_);
    if (!file_) throw Error("cannot write " + tmp_);
  }
  ~OutputFile() {
    if (!tmp_.empty() && !committed_) {
      file_.close();
      std::error_code ec;
      std::filesystem::remove(tmp_, ec);
    }
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  std::ostream& stream() { return tmp_.empty() ? std::cout : file_; }
  /// Closes and renames FILE.tmp to FILE. @throws Error when the write failed (disk full).
  void commit() {
    if (tmp_.empty()) return;
    file_.close();
    if (!file_) throw Error("write to " + tmp_ + " failed (disk full?)");
    std::filesystem::rename(tmp_, path_);
    committed_ = true;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_, tmp_;
  std::ofstream file_;
  bool committed_ = false;
};

}  // namespace ner4el::cli
