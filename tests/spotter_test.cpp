// Mention detection over the alias table: spans, offsets and the rules of pipeline.h's Spotter.
#include <gtest/gtest.h>

#include "ner4el/error.h"
#include "ner4el/kb.h"
#include "ner4el/pipeline.h"
#include "test_util.h"

namespace ner4el {
namespace {

class SpotterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir = new test::TempDir;
    test::write_file(dir->file("e.jsonl"),
                     R"({"id": 1, "title": "Paris", "description": "capital of France", "count": 9, "aliases": ["Paris"]})" "\n"
                     R"({"id": 2, "title": "Paris Hilton", "description": "a socialite", "count": 2, "aliases": ["Paris Hilton", "Hilton"]})" "\n"
                     R"({"id": 3, "title": "United States", "description": "a country", "count": 5, "aliases": ["U.S.", "United States of America", "America"]})" "\n"
                     R"({"id": 4, "title": "São Paulo", "description": "a city", "count": 5, "aliases": ["São Paulo"]})" "\n"
                     R"({"id": 5, "title": "The Who", "description": "a band", "count": 5, "aliases": ["The Who", "The", "Who"]})" "\n"
                     R"({"id": 6, "title": "Albert Einstein", "description": "a physicist", "count": 5, "aliases": ["Albert Einstein", "Einstein"]})" "\n"
                     R"({"id": 7, "title": "Coca-Cola", "description": "a drink", "count": 5, "aliases": ["Coca-Cola"]})" "\n");
    KbSources src;
    src.entities = dir->file("e.jsonl");
    build_knowledge_base(src, dir->file("kb"));
    kb = new KnowledgeBase(KnowledgeBase::open(dir->file("kb")));
  }
  static void TearDownTestSuite() {
    delete kb;
    delete dir;
  }
  static std::vector<std::string> mentions(const std::vector<TextSpan>& spans) {
    std::vector<std::string> out;
    for (const auto& s : spans) out.push_back(s.mention);
    return out;
  }
  static test::TempDir* dir;
  static KnowledgeBase* kb;
};
test::TempDir* SpotterTest::dir = nullptr;
KnowledgeBase* SpotterTest::kb = nullptr;

TEST_F(SpotterTest, LongestMatchFirstWithoutOverlaps) {
  Spotter s(*kb);
  auto spans = s.spot("Yesterday Paris Hilton flew from Paris to the United States of America.");
  EXPECT_EQ(mentions(spans), (std::vector<std::string>{"Paris Hilton", "Paris", "United States of America"}));
  EXPECT_EQ(spans[0].start, 10u);
  EXPECT_EQ(spans[0].end, 22u);
  EXPECT_EQ(spans[0].detection_score, 1.0);
}

TEST_F(SpotterTest, OffsetsInCodePointsAndBytes) {
  Spotter s(*kb);
  const std::string text = "Olá! Em São Paulo e Paris.";
  auto spans = s.spot(text);
  ASSERT_EQ(mentions(spans), (std::vector<std::string>{"São Paulo", "Paris"}));
  EXPECT_EQ(spans[0].start, 8u);  // code points: "Olá! Em " is 8 characters, 9 bytes
  EXPECT_EQ(spans[0].byte_start, 9u);
  EXPECT_EQ(spans[0].end, 17u);
  EXPECT_EQ(spans[0].byte_end, 19u);
  EXPECT_EQ(text.substr(spans[1].byte_start, spans[1].byte_end - spans[1].byte_start), "Paris");
  EXPECT_EQ(spans[1].start, 20u);
}

TEST_F(SpotterTest, NamesAbbreviationsPossessivesAndStopWords) {
  Spotter s(*kb);
  // U.S. keeps its final period; Einstein's loses the possessive; Coca-Cola is one word; "The" at
  // the start of a sentence is a function word, not the start of a name.
  EXPECT_EQ(mentions(s.spot("The U.S. honoured Einstein's work; Coca-Cola paid.")),
            (std::vector<std::string>{"U.S.", "Einstein", "Coca-Cola"}));
  // Inside a sentence a capitalised function word belongs to the name; lower-case ones never edge a span.
  EXPECT_EQ(mentions(s.spot("Who saw The Who? I saw the who.")), std::vector<std::string>{"The Who"});
  // Lower-case text: nothing unless the capital rule is off.
  EXPECT_TRUE(s.spot("paris hilton in paris").empty());
  SpotterOptions all;
  all.require_capital = false;
  EXPECT_EQ(mentions(Spotter(*kb, all).spot("paris hilton in paris")), (std::vector<std::string>{"paris hilton", "paris"}));
}

TEST_F(SpotterTest, SentenceStartHalvesSingleWordsAndTheThresholdDrops) {
  Spotter s(*kb);
  auto spans = s.spot("Paris is big. Hilton is rich.\nAmerica too, and then America.");
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(spans[0].detection_score, 0.5);  // sentence-initial, one word
  EXPECT_EQ(spans[1].detection_score, 0.5);
  EXPECT_EQ(spans[2].detection_score, 0.5);  // after a newline
  EXPECT_EQ(spans[3].detection_score, 1.0);
  SpotterOptions strict;
  strict.threshold = 0.75;
  EXPECT_EQ(Spotter(*kb, strict).spot("Paris is big. Hilton is rich.\nAmerica too, and then America.").size(), 1u);
  SpotterOptions bad;
  bad.max_tokens = 0;
  EXPECT_THROW(Spotter(*kb, bad), InvalidArgument);
}

TEST_F(SpotterTest, InvalidUtf8IsReplacedBeforeOffsets) {
  const std::string raw = "x\xff Paris";
  const std::string text = valid_utf8(raw);
  EXPECT_EQ(text, "x\xEF\xBF\xBD Paris");
  auto spans = Spotter(*kb).spot(text);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].start, 3u);
  EXPECT_EQ(spans[0].byte_start, 5u);
  EXPECT_EQ(valid_utf8("São"), "São");  // valid text unchanged
  // Truncated sequences, overlong encodings and lone continuation bytes: one U+FFFD per byte.
  EXPECT_EQ(valid_utf8("\xC3"), "\xEF\xBF\xBD");
  EXPECT_EQ(valid_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(valid_utf8("\x80z"), "\xEF\xBF\xBDz");
}

TEST_F(SpotterTest, ResolvesGivenSpans) {
  const std::string text = "Olá Paris";
  std::vector<TextSpan> by_cp{{4, 9, 0, 0, "", 1.0}};
  resolve_offsets(text, by_cp, true);
  EXPECT_EQ(by_cp[0].byte_start, 5u);
  EXPECT_EQ(by_cp[0].mention, "Paris");
  std::vector<TextSpan> by_bytes{{0, 0, 5, 10, "", 1.0}};
  resolve_offsets(text, by_bytes, false);
  EXPECT_EQ(by_bytes[0].start, 4u);
  EXPECT_EQ(by_bytes[0].end, 9u);
  std::vector<TextSpan> outside{{4, 10, 0, 0, "", 1.0}};
  EXPECT_THROW(resolve_offsets(text, outside, true), InvalidArgument);
  std::vector<TextSpan> reversed{{5, 4, 0, 0, "", 1.0}};
  EXPECT_THROW(resolve_offsets(text, reversed, true), InvalidArgument);
  std::vector<TextSpan> inside_char{{0, 0, 3, 5, "", 1.0}};  // byte 3 is inside "á"
  EXPECT_THROW(resolve_offsets(text, inside_char, false), InvalidArgument);
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

// A text's mentions carry bounded context (each once copied the whole text on both sides: a 128 KB
// line of one alias took 2.9 GB): the right context's first 4 KiB, the left context's first and
// last 4 KiB, cut between words, so what an encoder window reads is there whichever end it reads.
TEST_F(SpotterTest, MentionsCarryBoundedContextFromBothEnds) {
  std::string before, after;
  for (int i = 0; i < 5000; ++i) before += "b" + std::to_string(i) + " ";
  for (int i = 0; i < 5000; ++i) after += " a" + std::to_string(i);
  const std::string text = before + "Paris" + after;
  const auto spans = Spotter(*kb).spot(text);
  ASSERT_EQ(mentions(spans), (std::vector<std::string>{"Paris"}));
  const Mention m = mention_in(text, spans[0]);
  EXPECT_EQ(m.mention, "Paris");
  EXPECT_LE(m.right_context.size(), kMentionContextBytes);
  EXPECT_LE(m.left_context.size(), 2 * kMentionContextBytes + 1);
  EXPECT_GT(m.right_context.size(), kMentionContextBytes * 3 / 4);
  EXPECT_EQ(after.rfind(m.right_context, 0), 0u) << "the right context is the text's start after the mention";
  const size_t join = m.left_context.find("  ");  // the first part ends on whitespace, then the joining space
  ASSERT_NE(join, std::string::npos);
  EXPECT_EQ(before.rfind(m.left_context.substr(0, join + 1), 0), 0u) << "the left context starts where the text does";
  const std::string tail = m.left_context.substr(join + 2);
  EXPECT_EQ(before.compare(before.size() - tail.size(), tail.size(), tail), 0) << "and ends right before the mention";
  EXPECT_EQ(tail.rfind("b", 0), 0u) << "cut between words: " << tail.substr(0, 20);
  // Short contexts stay whole, and text without spaces is cut on a character boundary.
  const std::string small = "Yesterday Paris Hilton flew.";
  const Mention s = mention_in(small, Spotter(*kb).spot(small)[0]);
  EXPECT_EQ(s.left_context, "Yesterday ");
  EXPECT_EQ(s.right_context, " flew.");
  std::string accents;
  for (int i = 0; i < 6000; ++i) accents += "é";
  const std::string wide = accents + " Paris " + accents + accents;
  const Mention w = mention_in(wide, Spotter(*kb).spot(wide)[0]);
  EXPECT_EQ(valid_utf8(w.left_context), w.left_context);
  EXPECT_EQ(valid_utf8(w.right_context), w.right_context);
  EXPECT_LE(w.right_context.size(), kMentionContextBytes);
}

}  // namespace
}  // namespace ner4el
