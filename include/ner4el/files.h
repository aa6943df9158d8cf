// Files in and out (base layer): an input file or standard input ("-"), and an output file written
// whole (to FILE.tmp, renamed at the end; removed if the work fails half-way) or standard output.
// Every file the project writes goes through OutputFile or replace_dir, so a reader sees the old
// file or the new one, never half of one.
#pragma once

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <system_error>

#include "ner4el/error.h"

namespace ner4el {

/// A command's input: path "-" is standard input. @throws InvalidArgument for a directory (which
/// opens and reads as empty), NotFound when the file cannot be opened.
class InputFile {
 public:
  InputFile(const std::string& path, const std::string& what) : name_(path == "-" ? "<stdin>" : path) {
    if (path == "-") return;
    if (std::filesystem::is_directory(path)) throw InvalidArgument(what + " " + path + " is a directory, not a file");
    file_.open(path);
    if (!file_) throw NotFound("cannot open " + path);
  }
  std::istream& stream() { return file_.is_open() ? static_cast<std::istream&>(file_) : std::cin; }
  /// The name messages use: the path, or <stdin>.
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::ifstream file_;
};

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

/// Puts the finished directory tmp in place of dir: an existing dir is renamed to dir + ".old" first
/// and removed once tmp is in place (a kill between the two renames leaves dir.old, which the next
/// call removes). @throws std::filesystem::filesystem_error when a rename fails.
void replace_dir(const std::string& tmp, const std::string& dir);

/// Reads one line (without its "\n" and a "\r" before it) of at most max_bytes: a longer line is
/// consumed to its end without being kept, and too_long is set (memory stays bounded by max_bytes
/// whatever the input). Returns false at the end of the input when nothing was read.
bool read_line(std::istream& in, std::string& line, std::size_t max_bytes, bool& too_long);

/// For outputs written as PATH.tmp-PID[-...] (several processes may write beside one another): a
/// process killed half-way (SIGKILL, power loss) leaves its temporary behind; this removes those
/// of PATH whose process is gone (or is this one). Never touches anything else.
void remove_stale_temporaries(const std::string& path);

}  // namespace ner4el
