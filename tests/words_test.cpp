// Words as the NER tagger sees them, NER span scoring, names inside articles and possessives, and
// the shared document format.
#include <gtest/gtest.h>

#include <fstream>

#include "ner4el/candidates.h"
#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "ner4el/evaluate.h"
#include "ner4el/words.h"
#include "test_util.h"

namespace ner4el {
namespace {

std::vector<std::string> texts_of(std::string_view text, const std::vector<Word>& words) {
  std::vector<std::string> out;
  for (const auto& w : words) out.emplace_back(text.substr(w.byte_start, w.byte_end - w.byte_start));
  return out;
}

TEST(Words, SplitsLikeBertsBasicTokenizerWithOffsets) {
  const std::string text = "Mr. Müller's U.S.-made car, 1996-08-30\n東京 ok";
  const auto words = split_words(text);
  EXPECT_EQ(texts_of(text, words), (std::vector<std::string>{"Mr", ".", "Müller", "'", "s", "U", ".", "S", ".", "-", "made", "car",
                                                              ",", "1996", "-", "08", "-", "30", "東", "京", "ok"}));
  // Code-point offsets: "Müller" starts at 4 and has 6 code points (7 bytes).
  EXPECT_EQ(words[2].start, 4u);
  EXPECT_EQ(words[2].end, 10u);
  EXPECT_EQ(words[2].byte_end - words[2].byte_start, 7u);
  EXPECT_EQ(words.back().end, code_points(text));
}

TEST(Words, ControlCharactersAndSpacesBelongToNoWord) {
  const std::string text = "a\x01" "b \t\xe2\x80\x8b c";  // U+0001 (Cc), U+200B (Cf: a control to BERT)
  EXPECT_EQ(texts_of(text, split_words(text)), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_words("").empty());
  EXPECT_TRUE(split_words(" \n ").empty());
}

TEST(Words, ShapesSeeCaseThatUncasedEncodersDoNot) {
  EXPECT_EQ(word_shape("paris"), 0);
  EXPECT_EQ(word_shape("Paris"), 1);
  EXPECT_EQ(word_shape("NATO"), 2);
  EXPECT_EQ(word_shape("A"), 3);
  EXPECT_EQ(word_shape("iPhone"), 4);
  EXPECT_EQ(word_shape("McDonald"), 4);
  EXPECT_EQ(word_shape("1996"), 5);
  EXPECT_EQ(word_shape("1990s"), 6);
  EXPECT_EQ(word_shape(","), 7);
  EXPECT_EQ(word_shape("Élysée"), 1);
  EXPECT_EQ(word_shape("ÉLYSÉE"), 2);
}

TEST(NerScore, CountsExactSpanAndTypeMatchesOnly) {
  auto g = [](size_t s, size_t e, const char* t) {
    GoldSpan x;
    x.start = s, x.end = e, x.type = t;
    return x;
  };
  auto d = [](size_t s, size_t e, const char* t) {
    TextSpan x;
    x.start = s, x.end = e, x.type = t;
    return x;
  };
  NerScore score;
  // right; wrong type; wrong end; a duplicate detection counts once; a missed gold span.
  score.add({g(0, 5, "PER"), g(10, 15, "LOC"), g(20, 30, "ORG"), g(40, 44, "MISC")},
            {d(0, 5, "PER"), d(0, 5, "PER"), d(10, 15, "ORG"), d(20, 29, "ORG")});
  EXPECT_EQ(score.all.gold, 4u);
  EXPECT_EQ(score.all.detected, 3u);
  EXPECT_EQ(score.all.correct, 1u);
  EXPECT_DOUBLE_EQ(score.all.precision(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(score.all.recall(), 0.25);
  EXPECT_NEAR(score.all.f1(), 2 * (1.0 / 3) * 0.25 / (1.0 / 3 + 0.25), 1e-12);
  EXPECT_EQ(score.by_type["ORG"].detected, 2u);
  EXPECT_EQ(score.by_type["ORG"].correct, 0u);
  EXPECT_EQ(score.by_type["MISC"].gold, 1u);
}

TEST(Candidates, NameCoreDropsArticlesAndPossessives) {
  EXPECT_EQ(name_core("the United States"), "United States");
  EXPECT_EQ(name_core("The Hague's"), "Hague");
  EXPECT_EQ(name_core("Germany's"), "Germany");
  EXPECT_EQ(name_core("Reuters'"), "Reuters");
  EXPECT_EQ(name_core("Theresa May"), "Theresa May");
  EXPECT_EQ(name_core("the"), "the");
  EXPECT_EQ(name_core("An"), "An");
  EXPECT_EQ(name_core("Paris"), "Paris");
}

TEST(Documents, ReadsTheSharedFormatAndNamesBadLines) {
  test::TempDir dir;
  const std::string path = dir.file("docs.jsonl");
  {
    std::ofstream f(path);
    f << R"({"id": "d1", "text": "Müller met Kohl .", "ner_spans": [{"start": 0, "end": 6, "type": "PER"}],)"
      << R"( "spans": [{"start": 11, "end": 15, "ner": "PER", "title": "Helmut Kohl"}, {"start": 0, "end": 6, "ner": "PER", "title": null}]})"
      << "\n\n"
      << R"({"text": "x", "ner_spans": [{"start": 0, "end": 2, "type": "PER"}]})" << "\n";
  }
  std::vector<Document> docs;
  try {
    for_each_document(path, [&](Document&& d, size_t) { docs.push_back(std::move(d)); });
    FAIL() << "a span past the text must be an error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":3: field 'ner_spans[0]'"), std::string::npos) << e.what();
  }
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].id, "d1");
  ASSERT_EQ(docs[0].ner_spans.size(), 1u);
  EXPECT_EQ(docs[0].ner_spans[0].type, "PER");
  EXPECT_EQ(docs[0].ner_spans[0].byte_end, 7u);  // ü is two bytes
  ASSERT_EQ(docs[0].spans.size(), 2u);
  EXPECT_EQ(*docs[0].spans[0].title, "Helmut Kohl");
  EXPECT_FALSE(docs[0].spans[1].title.has_value());
  EXPECT_THROW(parse_document(R"({"id": 1})", "f", 1), FormatError);
  EXPECT_THROW(parse_document(R"({"text": "ab", "ner_spans": [{"start": 2, "end": 1}]})", "f", 1), FormatError);
}

}  // namespace
}  // namespace ner4el
