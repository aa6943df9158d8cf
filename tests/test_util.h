// Helpers shared by the tests.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ner4el::test {

/// A fresh empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

void write_file(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);

/// Runs a shell command, returns its exit status; stdout (and stderr if merge) into out.
int run(const std::string& command, std::string* out = nullptr);

/// Path to ../shared/data/ner4el/<name>, or "" when the shared data is not beside the checkout.
std::string shared_data(const std::string& name);

/// A small BERT-like vocabulary for tests: [PAD] [UNK] [CLS] [SEP] [MASK], then the given tokens.
std::vector<std::string> small_vocab(const std::vector<std::string>& tokens);

}  // namespace ner4el::test
