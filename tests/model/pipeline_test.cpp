// The pipeline facade: opening, raw-text annotation, linking given spans, end-to-end evaluation.
#include "ner4el/pipeline.h"

#include <gtest/gtest.h>

#include "ner4el/error.h"
#include "test_util.h"

namespace ner4el {
namespace {

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_file(dir.file("e.jsonl"),
                     R"({"id": 1, "title": "Paris", "description": "a city", "count": 9, "class": "LOC", "aliases": ["Paris"]})" "\n"
                     R"({"id": 2, "title": "Paris Hilton", "description": "a socialite", "count": 2, "class": "PER", "aliases": ["Paris", "Paris Hilton"]})" "\n"
                     R"({"id": 3, "title": "Lyon", "description": "a city", "count": 4, "class": "LOC", "aliases": ["Lyon"]})" "\n");
    KbSources src;
    src.entities = dir.file("e.jsonl");
    build_knowledge_base(src, dir.file("kb"));
    config.kb = dir.file("kb");
    config.model = "prior";
    config.mentions = "spotter";  // (the tagger: tests/model/tagger_test.cpp)
  }
  test::TempDir dir;
  PipelineConfig config;
};

TEST_F(PipelineTest, AnnotatesTextsAndLinksGivenSpans) {
  auto p = Pipeline::open(config);
  EXPECT_EQ(p.description(), "count prior");
  EXPECT_EQ(p.model(), nullptr);
  auto docs = p.annotate({"We met Paris Hilton in Lyon.", "", "Bad \xff byte, then Paris."});
  ASSERT_EQ(docs.size(), 3u);
  ASSERT_EQ(docs[0].size(), 2u);
  EXPECT_EQ(docs[0][0].span.mention, "Paris Hilton");
  EXPECT_EQ(docs[0][0].result.ranked.front().id, 2);
  EXPECT_EQ(docs[0][1].result.ranked.front().id, 3);
  EXPECT_TRUE(docs[1].empty());
  ASSERT_EQ(docs[2].size(), 1u);
  EXPECT_EQ(docs[2][0].span.start, 17u);  // "Bad \uFFFD byte, then " is 17 characters
  EXPECT_EQ(docs[2][0].span.byte_start, 19u);
  EXPECT_EQ(docs[2][0].result.ranked.front().id, 1);  // the prior prefers the city
  // Given spans (REL's ED mode): the span is linked as given, even where the spotter would not look.
  std::vector<TextSpan> spans{{7, 12, 0, 0, "", 1.0}};
  resolve_offsets("we saw paris there", spans, true);
  auto linked = p.link_spans("we saw paris there", spans);
  ASSERT_EQ(linked.size(), 1u);
  EXPECT_EQ(linked[0].span.mention, "paris");
  EXPECT_EQ(linked[0].result.ranked.size(), 2u);
  // Per-call spotter rules.
  CallOptions all;
  all.spotter = SpotterOptions{};
  all.spotter->require_capital = false;
  EXPECT_EQ(p.annotate({"lyon"}, all)[0].size(), 1u);
  EXPECT_TRUE(p.annotate({"lyon"})[0].empty());
  // Per-call K and top: one candidate considered, or one alternative reported.
  const std::vector<Mention> paris{{"Paris", "", "", std::nullopt}};
  EXPECT_EQ(p.link(paris)[0].ranked.size(), 2u);
  CallOptions one;
  one.top = 1;
  EXPECT_EQ(p.link(paris, one)[0].ranked.size(), 1u);
  CallOptions k1;
  k1.k = 1;
  EXPECT_EQ(p.link(paris, k1)[0].candidates, 1u);
  EXPECT_EQ(p.link(paris)[0].candidates, 2u);  // the pipeline's own options are untouched
  CallOptions bad;
  bad.k = 0;
  EXPECT_THROW(p.link(paris, bad), InvalidArgument);
  CallOptions cd;
  cd.ner_cd = true;
  EXPECT_THROW(p.link(paris, cd), InvalidArgument);  // no NER classifier
}

TEST_F(PipelineTest, OpeningChecksItsParts) {
  PipelineConfig c = config;
  c.index = dir.file("missing-index");
  EXPECT_THROW(Pipeline::open(c), InvalidArgument);  // an index needs the model it was made with
  c = config;
  c.kb = dir.file("nope");
  EXPECT_THROW(Pipeline::open(c), NotFound);
  c = config;
  c.link.ner_cd = true;
  EXPECT_THROW(Pipeline::open(c), InvalidArgument);
}

// Three records of one article, in overlapping windows as the shared data sets have them (contexts
// stripped of the spaces around the mention). Every number below is counted by hand.
TEST_F(PipelineTest, EndToEndEvaluationCountsSpans) {
  std::vector<Mention> records{
      {"Paris", "Visitors love", "and Lyon in spring", std::string("Paris")},
      {"Lyon", "Visitors love Paris and", "in spring", std::string("Lyon")},
      {"Hilton", "Then", "arrived in Paris", std::string("Conrad Hilton")},  // not in the KB, not an alias
  };
  auto p = Pipeline::open(config);
  auto r = evaluate_end_to_end(p, records);
  // Records 1 and 2 have the same text: one document with both spans; record 3 is another.
  EXPECT_EQ(r.documents, 2u);
  // Gold: Paris, Lyon in document 1; Hilton in document 2 (Paris there is no gold mention).
  EXPECT_EQ(r.gold, 3u);
  EXPECT_EQ(r.gold_in_kb, 2u);
  // Detected: Paris, Lyon; then Paris (Hilton is no alias... of this KB: "Hilton" is not one).
  EXPECT_EQ(r.detected, 3u);
  EXPECT_EQ(r.detected_right, 2u);
  EXPECT_EQ(r.linked, 3u);
  EXPECT_EQ(r.linked_right, 2u);
  EXPECT_NEAR(r.md_precision(), 2.0 / 3, 1e-9);
  EXPECT_NEAR(r.md_recall(), 2.0 / 3, 1e-9);
  EXPECT_NEAR(r.el_recall(), 1.0, 1e-9);
  EXPECT_NEAR(r.el_f1(), 2 * (2.0 / 3) / (2.0 / 3 + 1), 1e-9);
}

}  // namespace
}  // namespace ner4el
