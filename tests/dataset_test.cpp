#include "ner4el/dataset.h"

#include <gtest/gtest.h>

#include "ner4el/error.h"
#include "test_util.h"

namespace ner4el {
namespace {

std::string error_of(const std::string& path, DatasetOptions opts = {}) {
  try {
    read_mentions(path, opts);
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

TEST(Dataset, ReadsMentionsAndOptionalOutput) {
  test::TempDir dir;
  test::write_file(dir.file("a.jsonl"),
                   R"({"mention": "Paris", "left_context": "in", "right_context": "today", "output": "Paris"})"
                   "\n\n"
                   R"({"mention": "Lyon", "left_context": "", "right_context": ""})"
                   "\r\n");
  DatasetReport r;
  auto ms = read_mentions(dir.file("a.jsonl"), {}, &r);
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].mention, "Paris");
  EXPECT_EQ(ms[0].left_context, "in");
  EXPECT_EQ(ms[0].output.value(), "Paris");
  EXPECT_FALSE(ms[1].output.has_value());
  EXPECT_EQ(r.lines, 2u);
  // require_output names the field and the line.
  std::string e = error_of(dir.file("a.jsonl"), {.require_output = true});
  EXPECT_NE(e.find("a.jsonl:3: field 'output': missing"), std::string::npos) << e;
}

// "candidates": KB ids (numbers) and titles (strings), in NER4EL's and BLINK's lines; anything else
// names the line, the field and the item.
TEST(Dataset, CandidatesAreIdsOrTitles) {
  test::TempDir dir;
  test::write_file(dir.file("c.jsonl"),
                   R"j({"mention": "Paris", "left_context": "", "right_context": "", "candidates": [12, "Paris (mythology)"]})j" "\n"
                   R"({"mention": "Paris", "context_left": "", "context_right": "", "candidates": []})" "\n"
                   R"({"mention": "Paris", "left_context": "", "right_context": "", "candidates": null})" "\n");
  auto ms = read_mentions(dir.file("c.jsonl"));
  ASSERT_EQ(ms.size(), 3u);
  ASSERT_TRUE(ms[0].candidates);
  EXPECT_EQ(*ms[0].candidates, (std::vector<GivenCandidate>{{12, ""}, {std::nullopt, "Paris (mythology)"}}));
  ASSERT_TRUE(ms[1].candidates);
  EXPECT_TRUE(ms[1].candidates->empty());
  EXPECT_FALSE(ms[2].candidates);
  for (const auto& [value, want] : std::vector<std::pair<std::string, std::string>>{
           {"\"Paris\"", "field 'candidates': expected a list"},
           {"[1, true]", "field 'candidates'[1]: expected a KB id (an integer) or a title (a string), found boolean"},
           {"[1.5]", "field 'candidates'[0]: expected a KB id"},
           {"[\"\"]", "field 'candidates'[0]: a title is 1 to 4,096 bytes"}}) {
    test::write_file(dir.file("bad.jsonl"), "\n{\"mention\": \"P\", \"left_context\": \"\", \"right_context\": \"\", \"candidates\": " +
                                                value + "}\n");
    const std::string e = error_of(dir.file("bad.jsonl"));
    EXPECT_NE(e.find("bad.jsonl:2: " + want), std::string::npos) << value << ": " << e;
  }
  std::string many = "[0";
  for (int i = 1; i <= 10000; ++i) many += "," + std::to_string(i);
  test::write_file(dir.file("many.jsonl"), R"({"mention": "P", "left_context": "", "right_context": "", "candidates": )" + many + "]}\n");
  EXPECT_NE(error_of(dir.file("many.jsonl")).find("10001 candidates, more than the 10000"), std::string::npos);
}

TEST(Dataset, BlinkLinesReadAsTheSameFieldsAndStream) {
  // BLINK's training lines (blink/biencoder/data_process.py reads these keys), beside NER4EL's.
  test::TempDir dir;
  test::write_file(dir.file("b.jsonl"),
                   R"({"context_left": "The capital of France is", "mention": "Paris", "context_right": ".", )"
                   R"("label_title": "Paris", "label": "Paris is the capital ...", "label_id": 22989, "world": "wiki"})"
                   "\n"
                   R"({"mention": "Lyon", "left_context": "in", "right_context": "", "output": "Lyon"})"
                   "\n"
                   R"({"context_left": "x", "mention": "Nice", "context_right": 3, "label_title": "Nice"})"
                   "\n");
  std::vector<std::pair<Mention, size_t>> seen;
  DatasetReport r;
  for_each_mention(dir.file("b.jsonl"), {.skip_bad = true, .require_output = true},
                   [&](Mention&& m, size_t line) { seen.emplace_back(std::move(m), line); }, &r);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].first.left_context, "The capital of France is");
  EXPECT_EQ(seen[0].first.mention, "Paris");
  EXPECT_EQ(seen[0].first.right_context, ".");
  EXPECT_EQ(seen[0].first.output.value(), "Paris");
  EXPECT_EQ(seen[0].second, 1u);
  EXPECT_EQ(seen[1].first.output.value(), "Lyon");
  EXPECT_EQ(r.skipped, 1u);  // BLINK's field names in the error too
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("b.jsonl:3: field 'context_right': expected a string"), std::string::npos) << r.errors[0];
}

TEST(Dataset, MalformedLinesNameFileLineAndField) {
  test::TempDir dir;
  const std::string good = R"({"mention": "x", "left_context": "", "right_context": ""})";
  test::write_file(dir.file("bad_json.jsonl"), good + "\n{\"mention\": \n");
  EXPECT_NE(error_of(dir.file("bad_json.jsonl")).find("bad_json.jsonl:2: not valid JSON"), std::string::npos);
  test::write_file(dir.file("missing.jsonl"), R"({"left_context": "", "right_context": ""})");
  EXPECT_NE(error_of(dir.file("missing.jsonl")).find("missing.jsonl:1: field 'mention': missing"), std::string::npos);
  test::write_file(dir.file("type.jsonl"), good + "\n" + R"({"mention": "x", "left_context": 3, "right_context": ""})");
  std::string e = error_of(dir.file("type.jsonl"));
  EXPECT_NE(e.find("type.jsonl:2: field 'left_context': expected a string, found number"), std::string::npos) << e;
  test::write_file(dir.file("array.jsonl"), "[1, 2]\n");
  EXPECT_NE(error_of(dir.file("array.jsonl")).find("expected a JSON object, found array"), std::string::npos);
}

TEST(Dataset, SkipBadCountsAndContinues) {
  test::TempDir dir;
  const std::string good = R"({"mention": "x", "left_context": "", "right_context": ""})";
  test::write_file(dir.file("mixed.jsonl"), good + "\nnot json\n" + good + "\n{\"mention\": 1}\n" + good + "\n");
  DatasetReport r;
  auto ms = read_mentions(dir.file("mixed.jsonl"), {.skip_bad = true}, &r);
  EXPECT_EQ(ms.size(), 3u);
  EXPECT_EQ(r.lines, 5u);
  EXPECT_EQ(r.skipped, 2u);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_NE(r.errors[1].find(":4: field 'mention'"), std::string::npos) << r.errors[1];
}

TEST(Dataset, MissingFileIsNotFound) { EXPECT_THROW(read_mentions("/nonexistent/x.jsonl"), NotFound); }

TEST(Dataset, SharedBenchmarkSetsLoad) {
  const std::pair<const char*, size_t> sets[] = {
      {"msnbc_test.jsonl", 656}, {"aquaint_test.jsonl", 727}, {"ace2004_test.jsonl", 257}};
  for (auto [name, count] : sets) {
    std::string path = test::shared_data(name);
    if (path.empty()) GTEST_SKIP() << "../shared/data/ner4el not found";
    auto ms = read_mentions(path, {.require_output = true});
    EXPECT_EQ(ms.size(), count) << name;
    for (const auto& m : ms) ASSERT_FALSE(m.mention.empty()) << name;
  }
}

}  // namespace
}  // namespace ner4el
