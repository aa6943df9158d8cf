// The NER tagger: windows, BIO decoding, the shipped tagger on real text, saving and loading, its
// training, and the tagger in the pipeline (NIL spans, NER-CD from its classes).
#include "ner4el/tagger.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "model/tagger_impl.h"
#include "ner4el/default_model.h"
#include "ner4el/error.h"
#include "ner4el/evaluate.h"
#include "ner4el/pipeline.h"
#include "ner4el/train.h"
#include "test_util.h"

namespace ner4el {
namespace {

TEST(TaggerWindows, EveryWordIsOwnedOnceWithContextOnEachSide) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int window = 8 + static_cast<int>(rng() % 300), margin = static_cast<int>(rng() % ((window - 2) / 4 + 1));
    const size_t n = rng() % 400;
    std::vector<std::vector<int>> pieces(n);
    for (auto& p : pieces) p.assign(1 + rng() % std::min(4, (window - 2) / 2), 1);
    const auto windows = plan_windows(pieces, window, margin);
    size_t next_owned = 0;
    for (size_t i = 0; i < windows.size(); ++i) {
      const auto& w = windows[i];
      size_t used = 0;
      for (size_t k = w.first; k < w.last; ++k) used += pieces[k].size();
      EXPECT_TRUE(used <= static_cast<size_t>(window - 2) || w.last == w.first + 1) << "window over its budget";
      EXPECT_EQ(w.own_first, next_owned);
      EXPECT_LE(w.first, w.own_first);
      EXPECT_LE(w.own_last, w.last);
      next_owned = w.own_last;
      if (i > 0) EXPECT_GT(w.first, windows[i - 1].first);  // progress
    }
    EXPECT_EQ(next_owned, n);
  }
  EXPECT_TRUE(plan_windows({}, 256, 32).empty());
}

TEST(TaggerDecoding, ViterbiKeepsBioValidAndFindsTheBestPath) {
  // tags: O, B-A, I-A, B-B, I-B
  const int T = 5;
  auto valid = [](const std::vector<int>& p, int previous) {
    for (size_t i = 0; i < p.size(); ++i) {
      const int from = i ? p[i - 1] : previous, to = p[i];
      if (to != 0 && to % 2 == 0 && (from == 0 || (from + 1) / 2 != to / 2)) return false;
    }
    return true;
  };
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0, 2);
  for (int trial = 0; trial < 300; ++trial) {
    const size_t n = 1 + rng() % 5;
    const int previous = static_cast<int>(rng() % T);
    std::vector<float> lp(n * T);
    for (auto& x : lp) x = noise(rng);
    const auto path = viterbi(lp.data(), n, T, previous);
    ASSERT_TRUE(valid(path, previous));
    // Brute force over every valid path.
    float best = -1e30f;
    std::vector<int> p(n, 0);
    for (size_t code = 0; code < static_cast<size_t>(std::pow(T, n)); ++code) {
      size_t c = code;
      for (size_t i = 0; i < n; ++i) p[i] = static_cast<int>(c % T), c /= T;
      if (!valid(p, previous)) continue;
      float s = 0;
      for (size_t i = 0; i < n; ++i) s += lp[i * T + p[i]];
      best = std::max(best, s);
    }
    float got = 0;
    for (size_t i = 0; i < n; ++i) got += lp[i * T + path[i]];
    EXPECT_NEAR(got, best, 1e-4);
  }
}

TEST(TaggerLabels, BioFromSpansAndBack) {
  const std::string text = "Angela Merkel met the New York Times .";
  const auto words = split_words(text);
  GoldSpan per, org;
  per.start = 0, per.end = 13, per.type = "PER";
  org.start = 22, org.end = 36, org.type = "ORG";
  const std::vector<std::string> types{"LOC", "ORG", "PER"};
  EXPECT_EQ(bio_labels(words, {per, org}, types), (std::vector<int64_t>{5, 6, 0, 0, 3, 4, 4, 0}));
  EXPECT_EQ(tag_names(types), (std::vector<std::string>{"O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"}));
}

/// The shipped tagger over the installed encoder, loaded once.
const Tagger& shipped() {
  static const Tagger t = Tagger::load(require_default_tagger("tagger"));
  return t;
}

TEST(Tagger, FindsAndTypesNamesInRawText) {
  const auto spans = shipped().tag("Angela Merkel flew to Paris on Monday to meet officials of the European Union.");
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& s : spans) got.emplace_back(s.mention, s.type);
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::string>>{
                     {"Angela Merkel", "PER"}, {"Paris", "LOC"}, {"European Union", "ORG"}}));
  for (const auto& s : spans) {
    EXPECT_GT(s.detection_score, 0.5);
    EXPECT_LE(s.detection_score, 1.0);
  }
  EXPECT_EQ(spans[0].start, 0u);
  EXPECT_EQ(spans[0].end, 13u);
  // Offsets are code points of the text (as annotate gives them).
  const auto accented = shipped().tag("Yesterday Gerhard Schröder spoke in Düsseldorf.");
  ASSERT_EQ(accented.size(), 2u);
  EXPECT_EQ(accented[1].mention, "Düsseldorf");
  EXPECT_EQ(accented[1].start, 36u);
  EXPECT_EQ(accented[1].byte_start, 37u);  // ö is two bytes
}

TEST(Tagger, FindsNothingWithoutNames) {
  for (const char* text : {"the weather was cold and the prices of bread rose again this week .",
                           "She said that it would rain tomorrow, and then it did.", "", "   \n  ", "12 , 34 . 56"})
    EXPECT_TRUE(shipped().tag(text).empty()) << text;
}

TEST(Tagger, LongTextsAreTaggedWindowByWindow) {
  // 400 sentences (~5,200 words, ~30 windows): each keeps its names wherever its window cut falls.
  const std::string sentence = "Angela Merkel met Jacques Chirac in Bonn on Tuesday to discuss the budget of the European Union . ";
  std::string text;
  for (int i = 0; i < 400; ++i) text += sentence;
  const auto spans = shipped().tag(text);
  size_t per = 0, loc = 0, org = 0;
  for (const auto& s : spans) {
    per += s.type == "PER";
    loc += s.type == "LOC" && s.mention == "Bonn";
    org += s.type == "ORG" && s.mention == "European Union";
    ASSERT_EQ(text.substr(s.byte_start, s.byte_end - s.byte_start), s.mention);
  }
  EXPECT_GE(per, 790u);
  EXPECT_GE(loc, 395u);
  EXPECT_GE(org, 395u);
  // Many texts at once give what each gives alone.
  const std::vector<std::string> texts{"Kohl visited Moscow .", sentence, "nothing here ."};
  const auto together = shipped().tag(texts);
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto alone = shipped().tag(texts[i]);
    ASSERT_EQ(together[i].size(), alone.size());
    for (size_t k = 0; k < alone.size(); ++k) {
      EXPECT_EQ(together[i][k].start, alone[k].start);
      EXPECT_EQ(together[i][k].type, alone[k].type);
    }
  }
}

TEST(Tagger, SavesLoadsAndRefusesAnotherEncoder) {
  test::TempDir dir;
  shipped().save(dir.file("copy"));
  const Tagger copy = Tagger::load(dir.file("copy"));
  const std::string text = "Boris Yeltsin returned to the Kremlin after talks with NATO in Brussels .";
  const auto a = shipped().tag(text), b = copy.tag(text);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].start, b[i].start);
    EXPECT_EQ(a[i].type, b[i].type);
    EXPECT_DOUBLE_EQ(a[i].detection_score, b[i].detection_score);
  }
  // Another encoder (the tiny test BERT): refused, naming what differs.
  try {
    (void)Tagger::load(dir.file("copy"), std::string(NER4EL_BERT_FIXTURE) + "/hf");
    FAIL() << "a head over another encoder must be refused";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("encoder"), std::string::npos) << e.what();
  }
  // A damaged tagger.json names its field.
  test::write_file(dir.file("copy/tagger.json"), R"({"format": "ner4el-tagger", "format_version": 1, "types": "PER"})");
  try {
    (void)Tagger::load(dir.file("copy"));
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("'types'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Tagger::load(dir.file("nothing")), NotFound);
}

TEST(TaggerTraining, LearnsFromDocumentsInTheSharedFormat) {
  // Small real data: 40 CoNLL-2003 training documents, 10 dev documents, 4 epochs (~20 s).
  const std::string docs = std::string(NER4EL_SHARED_DATA) + "/aida/aida_train_docs.jsonl";
  if (!std::filesystem::exists(docs)) GTEST_SKIP() << "../shared/data/aida missing";
  test::TempDir dir;
  {
    std::ifstream in(docs);
    std::ofstream train(dir.file("train.jsonl")), dev(dir.file("dev.jsonl"));
    std::string line;
    for (int i = 0; i < 50 && std::getline(in, line); ++i) (i < 40 ? train : dev) << line << "\n";
  }
  TaggerTrainConfig c;
  c.train_data = dir.file("train.jsonl");
  c.dev_data = dir.file("dev.jsonl");
  c.output_dir = dir.file("tagger");
  c.epochs = 4;
  c.lstm = 64;
  c.batch_size = 4;
  c.lr = 5e-3;
  const auto r = train_tagger(c);
  EXPECT_EQ(r.types, (std::vector<std::string>{"LOC", "MISC", "ORG", "PER"}));
  EXPECT_EQ(r.train_documents, 40u);
  ASSERT_EQ(r.epochs.size(), 4u);
  EXPECT_LT(r.epochs[3].loss, r.epochs[0].loss / 2);
  EXPECT_GT(r.best_dev_f1, 0.5);  // from nothing, on 40 documents (68 when measured)
  // The saved tagger scores the dev documents as the trainer did.
  const Tagger t = Tagger::load(c.output_dir);
  NerScore score;
  for (const auto& d : read_documents(c.dev_data)) score.add(d.ner_spans, t.tag(d.text));
  EXPECT_NEAR(score.all.f1(), r.best_dev_f1, 0.005);  // (other batches: float rounding may flip a tag)
  // The same command again gives the same tagger, byte for byte (same machine and threads).
  TaggerTrainConfig again = c;
  again.output_dir = dir.file("again");
  (void)train_tagger(again);
  EXPECT_EQ(test::read_file(dir.file("again/head.safetensors")), test::read_file(dir.file("tagger/head.safetensors")));
}

class TaggerPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_file(dir.file("e.jsonl"),
                     R"({"id": 1, "title": "Paris", "description": "the capital city of France", "count": 9, "class": "LOC", "aliases": ["Paris"]})" "\n"
                     R"({"id": 2, "title": "Paris Hilton", "description": "an American socialite and singer", "count": 2, "class": "PER", "aliases": ["Paris", "Paris Hilton"]})" "\n"
                     R"({"id": 3, "title": "Lyon", "description": "a city in France", "count": 4, "class": "LOC", "aliases": ["Lyon"]})" "\n");
    KbSources src;
    src.entities = dir.file("e.jsonl");
    build_knowledge_base(src, dir.file("kb"));
    config.kb = dir.file("kb");
    config.mentions = "tagger";
  }
  test::TempDir dir;
  PipelineConfig config;
};

TEST_F(TaggerPipelineTest, TaggerSpansAreLinkedOrReportedAsNil) {
  const auto p = Pipeline::open(config);
  ASSERT_NE(p.tagger(), nullptr);
  const auto docs = p.annotate({"Angela Merkel arrived in Lyon on Monday .", "the weather was cold ."});
  ASSERT_EQ(docs[0].size(), 2u);
  EXPECT_EQ(docs[0][0].span.mention, "Angela Merkel");
  EXPECT_EQ(docs[0][0].span.type, "PER");
  EXPECT_TRUE(docs[0][0].result.ranked.empty());  // NIL: kept, unlinked
  EXPECT_EQ(docs[0][1].span.type, "LOC");
  ASSERT_FALSE(docs[0][1].result.ranked.empty());
  EXPECT_EQ(docs[0][1].result.ranked[0].id, 3);
  EXPECT_TRUE(docs[1].empty());
  // "spotter" per call: the KB's aliases only (no NIL spans); "both" adds them to the tagger's.
  CallOptions spot;
  spot.mentions = "spotter";
  EXPECT_EQ(p.annotate({"Angela Merkel arrived in Lyon ."}, spot)[0].size(), 1u);
  CallOptions both;
  both.mentions = "both";
  EXPECT_EQ(p.annotate({"Angela Merkel arrived in Lyon ."}, both)[0].size(), 2u);
  CallOptions bad;
  bad.mentions = "flair";
  EXPECT_THROW(p.annotate({"x"}, bad), InvalidArgument);
}

TEST_F(TaggerPipelineTest, NerCdUsesTheTaggersClassWithoutAClassifier) {
  test::write_file(dir.file("k.jsonl"),
                   R"j({"id": 1, "title": "Kohl (river)", "description": "a river of Bavaria", "count": 9, "class": "LOC", "aliases": ["Kohl"]})j" "\n"
                   R"({"id": 2, "title": "Helmut Kohl", "description": "a German politician", "count": 1, "class": "PER", "aliases": ["Kohl", "Helmut Kohl"]})" "\n");
  KbSources src;
  src.entities = dir.file("k.jsonl");
  build_knowledge_base(src, dir.file("kb2"));
  PipelineConfig c = config;
  c.kb = dir.file("kb2");
  const auto p = Pipeline::open(c);
  const std::string text = "Chancellor Kohl said on Monday that taxes would rise .";
  CallOptions cd;
  cd.ner_cd = true;
  const auto constrained = p.annotate({text}, cd)[0];
  ASSERT_EQ(constrained.size(), 1u);
  EXPECT_EQ(constrained[0].span.type, "PER");
  ASSERT_FALSE(constrained[0].result.ranked.empty());
  EXPECT_EQ(constrained[0].result.ranked[0].title, "Helmut Kohl");
  // NER-CG with the tagger's class: only candidates of that class (or none) stay.
  CallOptions cg;
  cg.ner_cd = true;
  PipelineConfig g = c;
  g.link.ner_cg = true;
  const auto q = Pipeline::open(g);
  const auto generated = q.annotate({text})[0];
  ASSERT_EQ(generated.size(), 1u);
  EXPECT_EQ(generated[0].result.candidates, 1u);
  EXPECT_EQ(generated[0].result.ranked[0].title, "Helmut Kohl");
  // The spotter's spans have no class: with it alone, and no classifier, nothing is constrained,
  // and a pipeline opened without a tagger refuses calls that ask for one.
  PipelineConfig spotter = c;
  spotter.mentions = "spotter";
  const auto s = Pipeline::open(spotter);
  EXPECT_EQ(s.tagger(), nullptr);
  const auto spotted = s.annotate({text}, cd)[0];
  ASSERT_EQ(spotted.size(), 1u);
  EXPECT_TRUE(spotted[0].span.type.empty());
  EXPECT_EQ(spotted[0].result.candidates, 2u);
  CallOptions tag;
  tag.mentions = "tagger";
  EXPECT_THROW(s.annotate({text}, tag), InvalidArgument);
}

TEST_F(TaggerPipelineTest, ArticlesAndPossessivesDoNotStopASpanFromLinking) {
  PipelineConfig c = config;
  c.mentions = "spotter";
  c.model = "prior";
  const auto p = Pipeline::open(c);
  const std::string text = "He went to the Lyon of his youth and Lyon's old town .";
  std::vector<TextSpan> spans{{11, 19, 0, 0, "", 1.0}, {37, 43, 0, 0, "", 1.0}};  // "the Lyon", "Lyon's"
  resolve_offsets(text, spans, true);
  const auto linked = p.link_spans(text, spans);
  ASSERT_EQ(linked.size(), 2u);
  EXPECT_EQ(linked[0].span.mention, "the Lyon");
  EXPECT_EQ(linked[1].span.mention, "Lyon's");
  for (const auto& l : linked) {
    ASSERT_FALSE(l.result.ranked.empty()) << l.span.mention;
    EXPECT_EQ(l.result.ranked[0].id, 3);
  }
}

}  // namespace
}  // namespace ner4el
