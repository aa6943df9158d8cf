// A KB and training mentions from real Wikipedia (gensim's enwiki piece, samples/wikipedia), used by
// 'train', 'evaluate' and 'link' as they use the release's files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace ner4el {
namespace {

TEST(WikipediaKbInUse, TrainEvaluateAndLinkOnADumpBuiltKb) {
  const std::string dump =
      std::string(NER4EL_SOURCE_DIR) + "/samples/wikipedia/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2";
  if (!std::filesystem::exists(dump)) GTEST_SKIP() << "samples/wikipedia missing: run scripts/install-deps";
  test::TempDir dir;
  const std::string tool = NER4EL_TOOL, fix = NER4EL_BERT_FIXTURE;
  std::string out;
  ASSERT_EQ(test::run(tool + " kb build --from wikipedia " + dump + " -o " + dir.file("kb") + " --mentions " + dir.file("m.jsonl"), &out), 0)
      << out;
  test::write_file(dir.file("c.yaml"), "encoder: " + fix + "/ner4el.ckpt\nvocab: " + fix + "/hf\nkb: " + dir.file("kb") +
                                           "\ntrain_data: " + dir.file("m.jsonl") + "\ndev_data: " + dir.file("m.jsonl") +
                                           "\noutput_dir: " + dir.file("run") + "\nwindow: 32\nk: 4\naccumulation: 8\nmax_steps: 2\n");
  ASSERT_EQ(test::run(tool + " train --config " + dir.file("c.yaml") + " 2>&1", &out), 0) << out;
  EXPECT_NE(out.find("trained on 109 mentions (0 dropped)"), std::string::npos) << out;
  EXPECT_TRUE(std::filesystem::exists(dir.file("run/metrics.jsonl")));
  // The count prior links the dump's own anchors: every gold is a candidate, most are the only one.
  std::string report;  // (test::run appends to what it is given)
  ASSERT_EQ(test::run(tool + " evaluate --json --kb " + dir.file("kb") + " --model prior --data " + dir.file("m.jsonl"), &report), 0)
      << report;
  const auto j = nlohmann::json::parse(report)["data_sets"].at(0);
  EXPECT_EQ(j["scored"], 109);
  EXPECT_EQ(j["recall"], 1.0);
  ASSERT_EQ(test::run(tool + " link --kb " + dir.file("kb") + " --model prior -i " + dir.file("m.jsonl") + " -o " + dir.file("links.jsonl"), &out), 0)
      << out;
  std::ifstream in(dir.file("links.jsonl"));
  std::string line;
  size_t n = 0, right = 0;
  while (std::getline(in, line)) {
    auto l = nlohmann::json::parse(line);
    ++n;
    right += l.contains("gold_id") && l.contains("entity_id") && l["gold_id"] == l["entity_id"];
  }
  EXPECT_EQ(n, 109u);
  EXPECT_GE(right, 100u);
}

}  // namespace
}  // namespace ner4el
