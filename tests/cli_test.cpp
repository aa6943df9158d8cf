// The ner4el tool, run as a user would.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "test_util.h"

namespace ner4el {
namespace {

std::string tool() { return NER4EL_TOOL; }

std::string make_vocab_dir(const test::TempDir& dir) {
  std::string txt;
  for (auto& v : test::small_vocab({"paris", "is", "nice", "##s", "."})) txt += v + "\n";
  test::write_file(dir.file("vocab.txt"), txt);
  return dir.path().string();
}

TEST(Cli, TokenizePrintsIdsPerLine) {
  test::TempDir dir;
  auto vocab = make_vocab_dir(dir);
  std::string out;
  ASSERT_EQ(test::run(tool() + " tokenize --vocab " + vocab + " --text '[E]Paris is nices.[\\E]'", &out), 0);
  EXPECT_EQ(out, "10 5 6 7 8 9 11\n");
  out.clear();
  ASSERT_EQ(test::run("printf 'paris\\nzzz paris\\n' | " + tool() + " tokenize --pieces --vocab " + vocab, &out), 0);
  EXPECT_EQ(out, "paris\n[UNK] paris\n");
}

TEST(Cli, InputsPrintsJsonLinesAndReportsBadLines) {
  test::TempDir dir;
  auto vocab = make_vocab_dir(dir);
  test::write_file(dir.file("d.jsonl"), R"({"mention": "Paris", "left_context": "", "right_context": "is nice"})"
                                        "\n");
  std::string out;
  ASSERT_EQ(test::run(tool() + " inputs --window 8 --vocab " + vocab + " --data " + dir.file("d.jsonl"), &out), 0);
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["ids"], (std::vector<int>{2, 10, 5, 11, 6, 7, 3, 0}));
  EXPECT_EQ(j["mention_position"], 2);
  test::write_file(dir.file("bad.jsonl"), "{\"mention\": 3}\n");
  out.clear();
  EXPECT_EQ(test::run(tool() + " inputs --vocab " + vocab + " --data " + dir.file("bad.jsonl") + " 2>&1", &out), 1);
  EXPECT_NE(out.find("error: " + dir.file("bad.jsonl") + ":1: field 'mention'"), std::string::npos) << out;
}

TEST(Cli, VersionShowsOpenBlasAndUsageErrorsExitTwo) {
  std::string out;
  ASSERT_EQ(test::run(tool() + " --version", &out), 0);
  EXPECT_NE(out.find("(OpenBLAS)"), std::string::npos) << out;
  EXPECT_EQ(test::run(tool() + " tokenize 2>/dev/null"), 2);  // --vocab missing
}

}  // namespace
}  // namespace ner4el
