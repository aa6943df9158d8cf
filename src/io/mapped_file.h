// Read-only memory map of a whole file (internal).
#pragma once

#include <string>
#include <string_view>

namespace ner4el::io {

class MappedFile {
 public:
  /// @throws NotFound if the file cannot be opened, Error if it cannot be mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& o) noexcept;

  std::string_view bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }
  /// Tells the kernel the pages before offset will not be read again (streaming readers).
  void release_before(size_t offset);
  /// Drops every mapped page from memory (they are read again from the file when touched); the
  /// release_before mark stays where it was.
  void drop_pages();

 private:
  std::string path_;
  const char* data_ = nullptr;
  size_t size_ = 0;
  size_t released_ = 0;
};

}  // namespace ner4el::io
