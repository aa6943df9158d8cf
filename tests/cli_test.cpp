// The ner4el tool, run as a user would.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <sstream>

#include "ner4el/kb.h"
#include "ner4el/release_compat.h"
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
  EXPECT_NE(out.find("pretrained model"), std::string::npos) << out;
  EXPECT_EQ(test::run(tool() + " tokenize --no-such-flag 2>/dev/null"), 2);
}

TEST(Cli, TokenizeFindsTheInstalledModelOrSaysHowToInstallIt) {
  // models/minilm-l6 (scripts/install-deps) is found beside the build folder without --vocab.
  std::string out;
  ASSERT_EQ(test::run("echo 'Paris [E]x[\\E]' | " + tool() + " tokenize", &out), 0) << out;
  EXPECT_EQ(out, "3000 30522 1060 30523\n");
  std::string err;
  EXPECT_EQ(test::run("echo x | NER4EL_MODEL=/nonexistent " + tool() + " tokenize 2>&1", &err), 1);
  EXPECT_NE(err.find("/nonexistent"), std::string::npos) << err;
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

TEST(Cli, KbBuildInfoCandidatesEntity) {
  test::TempDir dir;
  ASSERT_EQ(test::run(std::string(NER4EL_PYTHON) + " " + NER4EL_TEST_DATA + "/make_kb_fixture.py " + dir.path().string()), 0);
  const std::string kb = dir.file("kb");
  std::string out;
  ASSERT_EQ(test::run(tool() + " kb build --aliases " + dir.file("aliases.pickle") + " --descriptions " +
                          dir.file("descriptions.csv") + " --counts " + dir.file("counts.csv") + " --titles " +
                          dir.file("titles.pickle") + " --types " + dir.file("id2ner.pickle") + " -o " + kb,
                      &out),
            0);
  EXPECT_NE(out.find("8 entities (7 with a description), 5 aliases"), std::string::npos) << out;
  out.clear();
  ASSERT_EQ(test::run(tool() + " kb info " + kb, &out), 0);
  auto info = nlohmann::json::parse(out);
  EXPECT_EQ(info["format_version"], kKbFormatVersion);
  EXPECT_EQ(info["class_order"], (std::vector<std::string>{"PER", "LOC", "SUPER", "ORG"}));
  out.clear();
  ASSERT_EQ(test::run(tool() + " kb candidates " + kb + " 'PARIS' -k 2", &out), 0);
  std::istringstream lines(out);
  std::string line;
  std::vector<nlohmann::json> rows;
  while (std::getline(lines, line)) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["id"], 1);
  EXPECT_EQ(rows[0]["title"], "Paris");
  EXPECT_EQ(rows[0]["class"], "LOC");
  EXPECT_EQ(rows[0]["count"], 500);
  EXPECT_EQ(rows[1]["id"], 2);
  out.clear();
  ASSERT_EQ(test::run(tool() + " kb candidates " + kb + " 'Atlantis' 2>&1", &out), 0);
  EXPECT_NE(out.find("not in the alias table"), std::string::npos);
  out.clear();
  ASSERT_EQ(test::run(tool() + " kb entity " + kb + " 3", &out), 0);
  EXPECT_EQ(nlohmann::json::parse(out)["description"], "Paris is a city in Lamar County,\nTexas, United States.");
  out.clear();
  EXPECT_EQ(test::run(tool() + " kb entity " + kb + " 42 2>&1", &out), 1);
  EXPECT_NE(out.find("error: entity 42 is not in"), std::string::npos) << out;
  // An existing output is not overwritten without --force.
  out.clear();
  EXPECT_EQ(test::run(tool() + " kb build --entities " + dir.file("aliases.pickle") + " -o " + kb + " 2>&1", &out), 1);
  EXPECT_NE(out.find("already exists"), std::string::npos) << out;
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

// The README's main job: default KB from WordNet, then links for the shipped examples.
TEST(Cli, DemoBuildsWordNetKbAndLinksExamples) {
  test::TempDir dir;
  std::string out;
  ASSERT_EQ(test::run("NER4EL_BIN=" + tool() + " NER4EL_OUT=" + dir.path().string() + " " + NER4EL_SOURCE_DIR +
                          "/scripts/demo 2>&1",
                      &out),
            0)
      << out;
  EXPECT_NE(out.find("Paris -> Paris (LOC"), std::string::npos) << out;
  EXPECT_NE(out.find("Lincoln -> Lincoln (PER"), std::string::npos) << out;
  // The default linker reads the context: the Paris who abducted Helen is the mythical prince.
  EXPECT_NE(out.find("Paris -> Paris (mythical being) (SUPER"), std::string::npos) << out;
  EXPECT_NE(out.find("pretrained encoder + prior"), std::string::npos) << out;
  // Raw text: the spotter finds Paris in the sentence (code points 16 to 21) and the linker picks the
  // mythical prince there too.
  EXPECT_NE(out.find("[16, 21)    'Paris' -> Paris (mythical being) (SUPER"), std::string::npos) << out;
  EXPECT_NE(out.find("[40, 46)   'Sparta' -> Sparta (LOC"), std::string::npos) << out;
  EXPECT_TRUE(std::filesystem::exists(dir.file("wordnet-index")));
  const auto at = out.find(" of 25 linked examples match their gold title");
  ASSERT_NE(at, std::string::npos) << out;
  EXPECT_GE(std::stoi(out.substr(out.rfind("--- ", at) + 4)), 22) << out;
  std::istringstream links(test::read_file(dir.file("links.jsonl")));
  std::string line;
  size_t n = 0;
  while (std::getline(links, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_TRUE(j.contains("entity_id"));
    ++n;
  }
  EXPECT_EQ(n, 26u);
}

TEST(Cli, LinkReportsMalformedLinesAndGoesOn) {
  test::TempDir dir;
  test::write_file(dir.file("e.jsonl"), R"({"id": 1, "title": "Paris", "description": "a city", "count": 3, "aliases": ["Paris"]})" "\n");
  ASSERT_EQ(test::run(tool() + " kb build --entities " + dir.file("e.jsonl") + " -o " + dir.file("kb") + " >/dev/null"), 0);
  test::write_file(dir.file("m.jsonl"), "{\"mention\": \"Paris\", \"left_context\": \"\", \"right_context\": \"\"}\nnot json\n"
                                        "{\"mention\": 5, \"left_context\": \"\", \"right_context\": \"\"}\n"
                                        "{\"mention\": \"paris\", \"left_context\": \"\", \"right_context\": \"\"}\n");
  std::string out;
  ASSERT_EQ(test::run(tool() + " link --kb " + dir.file("kb") + " -i " + dir.file("m.jsonl") + " 2>/dev/null", &out), 0);
  std::istringstream lines(out);
  std::vector<nlohmann::json> rows;
  std::string line;
  while (std::getline(lines, line)) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["entity_id"], 1);
  EXPECT_EQ(rows[1]["line"], 2);
  EXPECT_NE(rows[1]["error"].get<std::string>().find("m.jsonl:2: not valid JSON"), std::string::npos);
  EXPECT_NE(rows[2]["error"].get<std::string>().find("m.jsonl:3: field 'mention'"), std::string::npos);
  EXPECT_EQ(rows[3]["entity_id"], 1);
  // A number JSON cannot hold (out of range, not a syntax error) is a malformed line too, not an abort.
  test::write_file(dir.file("n.jsonl"), "{\"mention\": \"Paris\", \"left_context\": \"\", \"right_context\": \"\", \"x\": 1e400}\n");
  out.clear();
  ASSERT_EQ(test::run(tool() + " link --kb " + dir.file("kb") + " --model prior -i " + dir.file("n.jsonl") + " 2>/dev/null", &out), 0);
  auto row = nlohmann::json::parse(out);
  EXPECT_NE(row["error"].get<std::string>().find("n.jsonl:1: not valid JSON"), std::string::npos) << out;
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

// Mentions that bring their candidates: link and evaluate use them instead of the alias table; a
// candidate the KB lacks makes that line an error object (link) or an error naming it (evaluate).
TEST(Cli, MentionsBringTheirOwnCandidates) {
  test::TempDir dir;
  test::write_file(dir.file("e.jsonl"),
                   R"({"id": 1, "title": "Paris", "description": "a city", "count": 9, "aliases": ["Paris"]})" "\n"
                   R"j({"id": 2, "title": "Paris (mythology)", "description": "a prince of Troy", "count": 1, "aliases": []})j" "\n");
  ASSERT_EQ(test::run(tool() + " kb build --entities " + dir.file("e.jsonl") + " -o " + dir.file("kb") + " >/dev/null"), 0);
  test::write_file(dir.file("m.jsonl"),
                   R"j({"mention": "Paris", "left_context": "", "right_context": "", "output": "Paris (mythology)", "candidates": ["Paris (mythology)"]})j" "\n"
                   R"({"mention": "Paris", "left_context": "", "right_context": "", "output": "Paris", "candidates": [1, 99]})" "\n"
                   R"({"mention": "the prince", "left_context": "", "right_context": "", "output": "Paris", "candidates": [2, 1]})" "\n");
  std::string out;
  ASSERT_EQ(test::run(tool() + " link --kb " + dir.file("kb") + " --model prior -i " + dir.file("m.jsonl") + " 2>/dev/null", &out), 0);
  std::istringstream lines(out);
  std::vector<nlohmann::json> rows;
  std::string line;
  while (std::getline(lines, line)) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["entity_id"], 2) << rows[0];  // the alias table would have said Paris
  EXPECT_NE(rows[1]["error"].get<std::string>().find("m.jsonl:2: candidates[1]: no entity with id 99"), std::string::npos) << rows[1];
  EXPECT_EQ(rows[2]["entity_id"], 1) << rows[2];  // "the prince" is no alias; its candidates are used
  out.clear();
  EXPECT_EQ(test::run(tool() + " evaluate --kb " + dir.file("kb") + " --model prior --json --data " + dir.file("m.jsonl") + " 2>&1", &out), 1);
  EXPECT_NE(out.find("m.jsonl:2: candidates[1]: no entity with id 99"), std::string::npos) << out;
}

TEST(Cli, EvaluatePrintsDropCountsAndThePaperTable) {
  std::string msnbc = test::shared_data("msnbc_test.jsonl");
  if (msnbc.empty()) GTEST_SKIP() << "../shared/data/ner4el not found";
  test::TempDir dir;
  ASSERT_EQ(test::run(tool() + " kb build --from wordnet -o " + dir.file("kb") + " >/dev/null"), 0);
  std::string out;
  ASSERT_EQ(test::run(tool() + " evaluate --kb " + dir.file("kb") + " --model prior --data " + msnbc + " " +
                          NER4EL_SOURCE_DIR + "/examples/mentions.jsonl --json",
                      &out),
            0);
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["system"], "count prior");
  ASSERT_EQ(j["data_sets"].size(), 2u);
  const auto& m = j["data_sets"][0];
  EXPECT_EQ(m["column"], "MSNBC");
  EXPECT_EQ(m["read"], 656);
  EXPECT_EQ(m["read"].get<int>(), m["not_in_alias_table"].get<int>() + m["gold_unknown"].get<int>() +
                                      m["no_candidates"].get<int>() + m["scored"].get<int>());
  // The shipped examples: 26 mentions, 1 unknown alias; the prior gets 10 of 25 (most of them are
  // the rarer sense of an ambiguous name).
  const auto& ex = j["data_sets"][1];
  EXPECT_EQ(ex["read"], 26);
  EXPECT_EQ(ex["not_in_alias_table"], 1);
  EXPECT_EQ(ex["scored"], 25);
  EXPECT_NEAR(ex["accuracy"].get<double>(), 10.0 / 25.0, 1e-12);
  out.clear();
  ASSERT_EQ(test::run(tool() + " evaluate --kb " + dir.file("kb") + " --model prior --data " + msnbc, &out), 0);
  EXPECT_NE(out.find("| system | AIDA | MSNBC | AQUAINT | ACE2004 | CWEB | WIKI | Avg |"), std::string::npos) << out;
  EXPECT_NE(out.find("| count prior | - | "), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(test::run(tool() + " evaluate --kb " + dir.file("kb") + " --model prior --data " + msnbc + " --ner-cd 2>&1", &out), 1);
  EXPECT_NE(out.find("need a trained --model"), std::string::npos) << out;
}

// The default linker (pretrained encoder + fitted prior) reads the context: on names that WordNet
// shares between several entities it finds the sense the sentence is about, where the count prior
// takes the most frequent one, and it keeps the frequent sense when the sentence is about that.
TEST(Cli, DefaultLinkerReadsTheContextWhereThePriorCannot) {
  test::TempDir dir;
  ASSERT_EQ(test::run(tool() + " kb build --from wordnet -o " + dir.file("kb") + " >/dev/null"), 0);
  const std::vector<std::array<std::string, 4>> cases{
      {"Queen", "Victoria", "ruled Great Britain and was empress of India for six decades.", "Victoria (Queen of England)"},
      {"The kung fu star Bruce", "Lee", "starred in martial arts films such as Enter the Dragon.", "Lee (actor)"},
      {"Captain", "Scott", "reached the South Pole a month after Amundsen and died on the way back.", "Scott (explorer)"},
      {"President", "Wilson", "led the country in World War I and proposed the League of Nations.",
       "Wilson (President of the United States)"},
      {"The civil rights leader Jesse", "Jackson", "ran a national campaign for the presidential nomination.",
       "Jackson (civil rights leader)"},
      {"General", "Washington", "commanded the Continental Army and became the first President.", "Washington (general)"},
      {"The Romans honoured", "Mercury", ", messenger of the gods and god of commerce.", "Mercury (Roman deity)"},
      {"The Romans worshipped", "Venus", ", goddess of love, their counterpart of Aphrodite.", "Venus (Roman deity)"},
      {"The Nebraska legislature meets in the state capital,", "Lincoln", ", in the southeast of the state.",
       "Lincoln (state capital)"},
      {"In 1492 the navigator", "Columbus", "sailed for Spain and reached the New World.", "Columbus (navigator)"},
      {"John baptized people in the river", "Jordan", ", which empties into the Dead Sea.", "Jordan (river)"},
      {"The republic of", "Georgia", "lies on the Black Sea in Asia Minor, south of Russia.", "Georgia (Asian country)"},
      {"Harvard is in", "Cambridge", ", Massachusetts, just north of Boston.", "Cambridge (city)"},
      {"In the southern hemisphere the constellation", "Phoenix", "lies near Tucana.", "Phoenix (constellation)"},
      // The frequent sense, in a sentence about it.
      {"The senators flew back to", "Washington", "for the vote in the Capitol.", "Washington"},
      {"The tourists visited the Louvre in", "Paris", ", the French capital.", "Paris"},
      {"The rover landed on", "Mars", ", the red planet.", "Mars"},
      {"The Gettysburg Address was delivered by", "Lincoln", "during the Civil War.", "Lincoln"},
  };
  std::string lines;
  for (const auto& c : cases)
    lines += nlohmann::json{{"left_context", c[0]}, {"mention", c[1]}, {"right_context", c[2]}, {"output", c[3]}}.dump() + "\n";
  test::write_file(dir.file("ambiguous.jsonl"), lines);
  auto correct = [&](const std::string& model_flag) {
    std::string out;
    EXPECT_EQ(test::run(tool() + " link --kb " + dir.file("kb") + " -i " + dir.file("ambiguous.jsonl") + model_flag +
                            " 2>/dev/null", &out), 0);
    std::istringstream in(out);
    std::string line;
    int ok = 0, n = 0;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      ++n;
      ok += j["title"] == j["output"];
    }
    EXPECT_EQ(n, static_cast<int>(cases.size()));
    return ok;
  };
  const int prior = correct(" --model prior"), pretrained = correct("");
  EXPECT_EQ(prior, 4);  // only the four sentences about the frequent sense
  EXPECT_GE(pretrained, 16) << "the default linker should read the context";
  EXPECT_GT(pretrained, prior);
  // Weights 0, 0 give the cosine alone; a large prior weight gives the prior's answers back.
  EXPECT_EQ(correct(" --prior-weight 100 --rank-weight 100"), prior);
}

TEST(Cli, ReleaseCompatEvaluatesAquaintWithFiveCandidates) {
  std::string aquaint = test::shared_data("aquaint_test.jsonl");
  if (aquaint.empty()) GTEST_SKIP() << "../shared/data/ner4el not found";
  test::TempDir dir;
  ASSERT_EQ(test::run(tool() + " kb build --from wordnet -o " + dir.file("kb") + " >/dev/null"), 0);
  std::string out;
  ASSERT_EQ(test::run(tool() + " evaluate --kb " + dir.file("kb") + " --model prior --data " + aquaint + " --json", &out), 0);
  auto sane = nlohmann::json::parse(out);
  EXPECT_EQ(sane["data_sets"][0]["k"], 40);
  EXPECT_TRUE(sane["release_quirks"].empty());
  out.clear();
  ASSERT_EQ(test::run(tool() + " evaluate --kb " + dir.file("kb") + " --model prior --data " + aquaint +
                          " --release-compat --json", &out), 0);
  auto rel = nlohmann::json::parse(out);
  EXPECT_EQ(rel["data_sets"][0]["k"], 5);
  EXPECT_EQ(rel["release_quirks"].size(), ReleaseQuirks::names().size());
  EXPECT_EQ(rel["data_sets"][0]["read"], 727);
  out.clear();
  EXPECT_EQ(test::run(tool() + " kb candidates " + dir.file("kb") + " paris --quirk no-such 2>&1", &out), 1);
  EXPECT_NE(out.find("exact-alias-keys"), std::string::npos) << out;  // the error lists the names
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

// A user's KB without classes, typed through WordNet by its descriptions.
TEST(Cli, KbBuildTypesByDescriptionThroughWordNet) {
  test::TempDir dir;
  test::write_file(dir.file("d.tsv"), "1\tan American singer and actress\n2\ta river in Africa\n3\tqwerty zxcv\n");
  test::write_file(dir.file("a.tsv"), "madonna\t1\nniger\t2\nzz\t3\n");
  ASSERT_EQ(test::run(tool() + " kb build --aliases " + dir.file("a.tsv") + " --descriptions " + dir.file("d.tsv") +
                      " --types wordnet -o " + dir.file("kb") + " >/dev/null"),
            0);
  std::string out;
  ASSERT_EQ(test::run(tool() + " kb entity " + dir.file("kb") + " 1", &out), 0);
  EXPECT_EQ(nlohmann::json::parse(out)["class"], "PER");
  out.clear();
  ASSERT_EQ(test::run(tool() + " kb entity " + dir.file("kb") + " 2", &out), 0);
  EXPECT_EQ(nlohmann::json::parse(out)["class"], "LOC");
  out.clear();
  ASSERT_EQ(test::run(tool() + " kb entity " + dir.file("kb") + " 3", &out), 0);
  EXPECT_EQ(nlohmann::json::parse(out)["class"], "");
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

TEST(Cli, AnnotateFindsAndLinksMentionsInRawText) {
  test::TempDir dir;
  test::write_file(dir.file("e.jsonl"),
                   R"({"id": 1, "title": "Paris", "description": "a city", "count": 9, "class": "LOC", "aliases": ["Paris"]})" "\n"
                   R"j({"id": 2, "title": "Paris (mythology)", "description": "a prince of Troy", "count": 1, "class": "PER", "aliases": ["Paris"]})j" "\n"
                   R"({"id": 3, "title": "Helen of Troy", "description": "a queen", "count": 4, "class": "PER", "aliases": ["Helen", "Helen of Troy"]})" "\n");
  ASSERT_EQ(test::run(tool() + " kb build --entities " + dir.file("e.jsonl") + " -o " + dir.file("kb") + " >/dev/null"), 0);
  std::string out;
  ASSERT_EQ(test::run(tool() + " annotate --kb " + dir.file("kb") + " --model prior --mentions spotter --text 'Then Paris met Helen of Troy.' 2>/dev/null", &out), 0);
  auto doc = nlohmann::json::parse(out);
  EXPECT_EQ(doc["id"], 1);
  ASSERT_EQ(doc["spans"].size(), 2u) << doc;
  EXPECT_EQ(doc["spans"][0]["mention"], "Paris");
  EXPECT_EQ(doc["spans"][0]["start"], 5);
  EXPECT_EQ(doc["spans"][0]["entity_id"], 1);  // the count prior: the city
  EXPECT_EQ(doc["spans"][0]["alternatives"].size(), 2u);
  EXPECT_EQ(doc["spans"][1]["mention"], "Helen of Troy");
  EXPECT_EQ(doc["spans"][1]["class"], "PER");
  // A file: plain lines and {"id", "text"} lines mixed, a malformed object reported in place.
  test::write_file(dir.file("docs.txt"), "Paris.\n{\"id\": \"b\", \"text\": \"In Paris.\"}\n{\"id\": 3}\n\nnothing here\n");
  ASSERT_EQ(test::run(tool() + " annotate --kb " + dir.file("kb") + " --model prior --mentions spotter -i " + dir.file("docs.txt") + " -o " +
                      dir.file("out.jsonl") + " 2>/dev/null"),
            0);
  std::vector<nlohmann::json> docs;
  std::istringstream lines(test::read_file(dir.file("out.jsonl")));
  std::string line;
  while (std::getline(lines, line)) docs.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(docs.size(), 5u);
  EXPECT_EQ(docs[0]["spans"][0]["detection_score"], 0.5);  // sentence-initial single word
  EXPECT_EQ(docs[1]["id"], "b");
  EXPECT_EQ(docs[1]["spans"][0]["start"], 3);
  EXPECT_NE(docs[2]["error"].get<std::string>().find("line 3"), std::string::npos);
  EXPECT_EQ(docs[3]["spans"].size(), 0u);
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.jsonl.tmp")));
  EXPECT_EQ(test::run(tool() + " annotate --kb " + dir.file("kb") + " --model prior 2>&1", &out), 1);
  EXPECT_NE(out.find("give --text or -i FILE"), std::string::npos) << out;
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

/// Runs `annotate --model prior --mentions spotter` over the KB dir/kb and input, writing
/// dir/out.jsonl; returns the process's peak resident memory in KiB (-1 when it did not exit 0).
long annotate_peak_kib(const test::TempDir& dir, const std::string& input) {
  const pid_t child = fork();
  if (child == 0) {
    const std::string kb = dir.file("kb"), out = dir.file("out.jsonl");
    freopen("/dev/null", "w", stderr);
    execl(NER4EL_TOOL, NER4EL_TOOL, "annotate", "--kb", kb.c_str(), "--model", "prior", "--mentions", "spotter", "-i",
          input.c_str(), "-o", out.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  struct rusage usage {};
  if (wait4(child, &status, 0, &usage) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return usage.ru_maxrss;
}

// Memory stays bounded however many mentions one text holds: a 136 KB line of 16,000 mentions
// (each mention once carried the whole text twice: over 2 GB here) is annotated in a few hundred MB.
TEST(Cli, AnnotateMemoryIsBoundedWhateverTheMentionsPerText) {
  test::TempDir dir;
  test::write_file(dir.file("e.jsonl"),
                   R"({"id": 1, "title": "Paris", "description": "a city", "count": 9, "class": "LOC", "aliases": ["Paris"]})" "\n"
                   R"({"id": 3, "title": "Helen of Troy", "description": "a queen", "count": 4, "class": "PER", "aliases": ["Helen", "Helen of Troy"]})" "\n");
  ASSERT_EQ(test::run(tool() + " kb build --entities " + dir.file("e.jsonl") + " -o " + dir.file("kb") + " >/dev/null"), 0);
  std::string line;
  for (int i = 0; i < 8000; ++i) line += "Then Paris met Helen. ";
  test::write_file(dir.file("big.txt"), line + "\n");
  const long peak_kib = annotate_peak_kib(dir, dir.file("big.txt"));
  ASSERT_GT(peak_kib, 0) << "annotate failed";
  const auto doc = nlohmann::json::parse(test::read_file(dir.file("out.jsonl")));
  ASSERT_EQ(doc["spans"].size(), 16000u);
  EXPECT_EQ(doc["spans"][15999]["mention"], "Helen");
  EXPECT_EQ(doc["spans"][15999]["entity_id"], 3);
  EXPECT_LT(peak_kib, 400 * 1024) << "peak resident memory in KiB";
}

TEST(Cli, DeeplyNestedJsonLinesAreMalformedLines) {
  test::TempDir dir;
  test::write_file(dir.file("e.jsonl"), R"({"id": 1, "title": "Paris", "description": "a city", "aliases": ["Paris"]})" "\n");
  ASSERT_EQ(test::run(tool() + " kb build --entities " + dir.file("e.jsonl") + " -o " + dir.file("kb") + " >/dev/null"), 0);
  test::write_file(dir.file("m.jsonl"), "{\"mention\": " + std::string(300000, '[') + std::string(300000, ']') +
                                            "}\n{\"mention\": \"Paris\", \"left_context\": \"\", \"right_context\": \"\"}\n");
  std::string out;
  ASSERT_EQ(test::run(tool() + " link --kb " + dir.file("kb") + " --model prior -i " + dir.file("m.jsonl") + " 2>/dev/null", &out), 0);
  std::istringstream lines(out);
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_NE(first.find("m.jsonl:1: JSON nested deeper than 128 levels (at byte 139)"), std::string::npos) << first.substr(0, 300);
  EXPECT_EQ(nlohmann::json::parse(second)["entity_id"], 1);
  // The same in a KB source: an error naming the line, no KB written.
  test::write_file(dir.file("deep.jsonl"), "{\"id\": " + std::string(1000, '[') + "\n");
  EXPECT_EQ(test::run(tool() + " kb build --entities " + dir.file("deep.jsonl") + " -o " + dir.file("kb2") + " 2>&1", &out), 1);
  EXPECT_NE(out.find("deep.jsonl:1: JSON nested deeper than 128 levels"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("kb2")));
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

// Invalid UTF-8 in a line once aborted the run (exit 134) and left a partial .tmp; an output path
// that is a directory was accepted.
TEST(Cli, InvalidUtf8LineIsAnErrorObjectAndTheRunGoesOn) {
  test::TempDir dir;
  test::write_file(dir.file("e.jsonl"), R"({"id": 1, "title": "Paris", "description": "a city", "aliases": ["Paris"]})" "\n");
  ASSERT_EQ(test::run(tool() + " kb build --entities " + dir.file("e.jsonl") + " -o " + dir.file("kb") + " >/dev/null"), 0);
  test::write_file(dir.file("m.jsonl"), "{\"mention\": \"Par\xffis\", \"left_context\": \"\", \"right_context\": \"\"}\n"
                                        "{\"mention\": \"Paris\", \"left_context\": \"\", \"right_context\": \"\"}\n");
  ASSERT_EQ(test::run(tool() + " link --kb " + dir.file("kb") + " --model prior -i " + dir.file("m.jsonl") + " -o " +
                      dir.file("out.jsonl") + " 2>/dev/null"),
            0);
  std::istringstream lines(test::read_file(dir.file("out.jsonl")));
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  auto e = nlohmann::json::parse(first);  // valid JSON, the bad byte replaced
  EXPECT_NE(e["error"].get<std::string>().find("m.jsonl:1: not valid JSON"), std::string::npos) << first;
  EXPECT_EQ(nlohmann::json::parse(second)["entity_id"], 1);
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.jsonl.tmp")));
  std::string out;
  std::filesystem::create_directories(dir.file("adir"));
  EXPECT_EQ(test::run(tool() + " link --kb " + dir.file("kb") + " --model prior -i " + dir.file("m.jsonl") + " -o " +
                      dir.file("adir") + " 2>&1", &out), 1);
  EXPECT_NE(out.find("is a directory"), std::string::npos) << out;
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

// A KB with no alias at all once failed with "disk full?"; a directory given as the input file was
// read as an empty file.
TEST(Cli, KbWithoutAliasesAndDirectoriesAsInputs) {
  test::TempDir dir;
  test::write_file(dir.file("e.jsonl"), R"({"id": 1, "title": "Paris", "description": "a city"})" "\n");
  std::string out;
  ASSERT_EQ(test::run(tool() + " kb build --entities " + dir.file("e.jsonl") + " -o " + dir.file("kb") + " 2>&1", &out), 0) << out;
  ASSERT_EQ(test::run(tool() + " kb candidates " + dir.file("kb") + " Paris 2>&1", &out), 0) << out;
  std::filesystem::create_directories(dir.file("adir"));
  EXPECT_EQ(test::run(tool() + " link --kb " + dir.file("kb") + " --model prior -i " + dir.file("adir") + " 2>&1", &out), 1);
  EXPECT_NE(out.find("is a directory"), std::string::npos) << out;
  EXPECT_EQ(test::run(tool() + " evaluate --kb " + dir.file("kb") + " --model prior --data " + dir.file("adir") + " 2>&1", &out), 1);
  EXPECT_NE(out.find("is a directory"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(test::run(tool() + " annotate --kb " + dir.file("kb") + " --model prior -i " + dir.file("adir") + " 2>&1", &out), 1);
  EXPECT_NE(out.find("input " + dir.file("adir") + " is a directory"), std::string::npos) << out;
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

// A kb build killed half-way leaves no KB (the output appears only whole) and its temporaries are
// removed by the next build; --force never replaces a directory that is not a KB.
TEST(Cli, KilledKbBuildLeavesNothingHalfWritten) {
  test::TempDir dir;
  {
    std::ofstream big(dir.file("big.jsonl"));
    for (int i = 1; i <= 300000; ++i)
      big << R"({"id": )" << i << R"(, "title": "Entity )" << i << R"(", "description": "a thing numbered )" << i
          << R"( with some words", "aliases": ["alias )" << i << R"("]})" << "\n";
  }
  const pid_t pid = fork();
  if (pid == 0) {
    execl(NER4EL_TOOL, NER4EL_TOOL, "kb", "build", "--entities", dir.file("big.jsonl").c_str(), "-o", dir.file("kb").c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  auto temporaries = [&] {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path()))
      n += e.path().filename().string().rfind("kb.tmp-", 0) == 0;
    return n;
  };
  // Kill it once it is at work (its temporary directory exists; libtorch's loading can take a
  // while on a busy machine), then a moment later.
  for (int i = 0; i < 600 && temporaries() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the build finished before the kill; make the input larger";
  EXPECT_FALSE(std::filesystem::exists(dir.file("kb")));
  EXPECT_GE(temporaries(), 1u);
  test::write_file(dir.file("small.jsonl"), R"({"id": 1, "title": "Paris", "description": "a city", "aliases": ["Paris"]})" "\n");
  ASSERT_EQ(test::run(tool() + " kb build --entities " + dir.file("small.jsonl") + " -o " + dir.file("kb") + " >/dev/null"), 0);
  EXPECT_EQ(temporaries(), 0u);
  std::filesystem::create_directories(dir.file("mine"));
  test::write_file(dir.file("mine/notes.txt"), "keep");
  std::string out;
  EXPECT_EQ(test::run(tool() + " kb build --force --entities " + dir.file("small.jsonl") + " -o " + dir.file("mine") + " 2>&1", &out), 1);
  EXPECT_NE(out.find("is not a knowledge base"), std::string::npos) << out;
  EXPECT_EQ(test::read_file(dir.file("mine/notes.txt")), "keep");
  EXPECT_EQ(test::run(tool() + " kb build --force --entities " + dir.file("small.jsonl") + " -o " + dir.file("kb") + " >/dev/null"), 0);
}

// ner4el tag: typed spans of raw text, nothing in a sentence without names, scores against gold
// spans; annotate --mentions tagger keeps the names the KB lacks as NIL spans with their class.
TEST(Cli, TagAndAnnotateWithTheTagger) {
  test::TempDir dir;
  std::string out;
  out.clear();
  ASSERT_EQ(test::run(tool() + " tag --text 'Helmut Kohl met Boris Yeltsin in Moscow .' 2>/dev/null", &out), 0) << out;
  auto j = nlohmann::json::parse(out);
  ASSERT_EQ(j["spans"].size(), 3u) << out;
  EXPECT_EQ(j["spans"][0]["mention"], "Helmut Kohl");
  EXPECT_EQ(j["spans"][0]["type"], "PER");
  EXPECT_EQ(j["spans"][2]["type"], "LOC");
  out.clear();
  ASSERT_EQ(test::run(tool() + " tag --text 'the weather was cold and wet all week .' 2>/dev/null", &out), 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out), nlohmann::json::parse(R"({"id": 1, "spans": []})"));
  test::write_file(dir.file("docs.jsonl"),
                   R"({"id": "a", "text": "Helmut Kohl met Boris Yeltsin in Moscow .", "ner_spans": [{"start": 0, "end": 11, "type": "PER"}, {"start": 16, "end": 29, "type": "PER"}, {"start": 33, "end": 39, "type": "LOC"}]})" "\n"
                   R"({"id": "b", "text": "nothing here .", "ner_spans": []})" "\n");
  out.clear();
  ASSERT_EQ(test::run(tool() + " tag -i " + dir.file("docs.jsonl") + " -o " + dir.file("tags.jsonl") + " --scores " +
                          dir.file("scores.json") + " 2>&1", &out), 0) << out;
  EXPECT_NE(out.find("micro"), std::string::npos) << out;
  const auto scores = nlohmann::json::parse(test::read_file(dir.file("scores.json")));
  EXPECT_EQ(scores["gold"], 3);
  EXPECT_EQ(scores["correct"], 3);
  EXPECT_EQ(scores["f1"], 1.0);
  out.clear();
  EXPECT_EQ(test::run(tool() + " tag --tagger " + dir.file("none") + " --text x 2>&1", &out), 1);
  EXPECT_NE(out.find("no tagger.json here"), std::string::npos) << out;

  test::write_file(dir.file("e.jsonl"), R"({"id": 1, "title": "Moscow", "description": "the capital of Russia", "count": 5, "class": "LOC", "aliases": ["Moscow"]})" "\n");
  out.clear();
  ASSERT_EQ(test::run(tool() + " kb build --entities " + dir.file("e.jsonl") + " -o " + dir.file("kb") + " >/dev/null"), 0);
  out.clear();
  ASSERT_EQ(test::run(tool() + " annotate --kb " + dir.file("kb") + " --model prior --mentions tagger --text "
                          "'Helmut Kohl flew to Moscow .' 2>/dev/null", &out), 0) << out;
  j = nlohmann::json::parse(out);
  ASSERT_EQ(j["spans"].size(), 2u) << out;
  EXPECT_EQ(j["spans"][0]["type"], "PER");
  EXPECT_TRUE(j["spans"][0]["entity_id"].is_null()) << out;  // NIL
  EXPECT_EQ(j["spans"][1]["title"], "Moscow");
  out.clear();
  ASSERT_EQ(test::run(tool() + " annotate --kb " + dir.file("kb") + " --model prior --mentions tagger --text "
                          "'the weather was cold and wet all week .' 2>/dev/null", &out), 0) << out;
  EXPECT_TRUE(nlohmann::json::parse(out)["spans"].empty()) << out;
}

// A document line over the 64 MiB bound is that line's error, read no further into memory than
// the bound; the next line is annotated as usual.
TEST(Cli, AnnotateBoundsEachDocumentLine) {
  test::TempDir dir;
  test::write_file(dir.file("e.jsonl"), R"({"id": 1, "title": "Moscow", "description": "the capital of Russia", "count": 5, "class": "LOC", "aliases": ["Moscow"]})" "\n");
  ASSERT_EQ(test::run(tool() + " kb build --entities " + dir.file("e.jsonl") + " -o " + dir.file("kb") + " >/dev/null"), 0);
  {
    std::ofstream f(dir.file("docs.txt"), std::ios::binary);
    const std::string chunk(1 << 20, 'a');
    for (int i = 0; i < 65; ++i) f << chunk;
    f << "\nThey flew to Moscow .\n";
  }
  const long peak_kib = annotate_peak_kib(dir, dir.file("docs.txt"));
  ASSERT_GT(peak_kib, 0) << "annotate failed";
  EXPECT_LT(peak_kib, 400 * 1024) << "peak resident memory in KiB";  // the 65 MiB line is never held whole
  std::istringstream lines(test::read_file(dir.file("out.jsonl")));
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_NE(nlohmann::json::parse(first)["error"].get<std::string>().find("longer than 64 MiB"), std::string::npos) << first;
  EXPECT_EQ(nlohmann::json::parse(second)["spans"][0]["title"], "Moscow") << second;
}

}  // namespace
}  // namespace ner4el
