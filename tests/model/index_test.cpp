// The entity-vector index against the plain re-encoding path, on the tiny BERT fixture.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>

#include "ner4el/batch_queue.h"
#include "ner4el/error.h"
#include "ner4el/index.h"
#include "ner4el/linker.h"
#include "test_util.h"

namespace ner4el {
namespace {

namespace fs = std::filesystem;
const std::string kFix = NER4EL_BERT_FIXTURE;

class IndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LoadOptions lo;
    lo.vocab = kFix + "/hf";
    lo.window = 32;
    model = std::make_unique<LinkerModel>(LinkerModel::load(kFix + "/ner4el.ckpt", lo));
    std::string kb_lines;
    // 12 entities under two aliases; descriptions of different lengths ("w5 w6 ...").
    for (int id = 1; id <= 12; ++id) {
      std::string desc;
      for (int w = 0; w < 2 + id % 5; ++w) desc += "w" + std::to_string(5 + (id * 7 + w) % 30) + " ";
      nlohmann::json j{{"id", id}, {"title", "E" + std::to_string(id)}, {"description", desc}, {"count", id},
                       {"class", id % 2 ? "PER" : "LOC"}, {"aliases", {id <= 6 ? "w1" : "w2", "w3"}}};
      kb_lines += j.dump() + "\n";
    }
    test::write_file(dir.file("kb.jsonl"), kb_lines);
    KbSources src;
    src.entities = dir.file("kb.jsonl");
    build_knowledge_base(src, dir.file("kb"));
    kb = std::make_unique<KnowledgeBase>(KnowledgeBase::open(dir.file("kb")));
  }
  test::TempDir dir;
  std::unique_ptr<LinkerModel> model;
  std::unique_ptr<KnowledgeBase> kb;
};

std::vector<Mention> mentions() {
  return {{"w1", "w9 w10", "w11", std::nullopt}, {"w2", "", "w12 w13 w14", std::nullopt}, {"w3", "w4", "", std::nullopt}};
}

// Per-call options (issue #23): any number of distinct sets, one linker, one entity-vector store
// whose memory stays under its bound; the batch queue gives every caller what the linker gives.
TEST_F(IndexTest, PerCallOptionsShareOneBoundedVectorStore) {
  LinkOptions lo;
  lo.top = 12;
  BiEncoderLinker roomy(*kb, *model, lo);
  lo.cache_mib = 0;  // the smallest bound: about one vector a generation
  BiEncoderLinker tight(*kb, *model, lo);
  const auto ms = mentions();
  const auto want = roomy.link(ms);
  size_t sets = 0;
  for (int k = 1; k <= 12; ++k)
    for (int top = 1; top <= 12; ++top, ++sets) {
      LinkCallOptions call;
      call.k = k;
      call.top = top;
      auto got = tight.link(ms, call);
      LinkOptions fixed = roomy.options();
      fixed.k = k;
      fixed.top = top;
      auto ref = BiEncoderLinker(*kb, *model, fixed).link(ms);  // a linker made with these options
      ASSERT_EQ(got.size(), ref.size());
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].candidates, ref[i].candidates);
        ASSERT_EQ(got[i].ranked.size(), ref[i].ranked.size()) << "k " << k << " top " << top;
        for (size_t r = 0; r < got[i].ranked.size(); ++r) {
          EXPECT_EQ(got[i].ranked[r].id, ref[i].ranked[r].id);
          EXPECT_NEAR(got[i].ranked[r].score, ref[i].ranked[r].score, 1e-5);
        }
      }
      EXPECT_LE(tight.cached_bytes(), 2 * (32 * sizeof(float) + 64));  // two generations of one vector
    }
  EXPECT_EQ(sets, 144u);
  // Evicted vectors are encoded again, with the same result.
  auto again = tight.link(ms);
  for (size_t i = 0; i < ms.size(); ++i) EXPECT_EQ(again[i].ranked.front().id, want[i].ranked.front().id);
  EXPECT_GT(roomy.cached_entities(), 2u);
  LinkCallOptions bad;
  bad.top = 0;
  EXPECT_THROW(tight.link(ms, bad), InvalidArgument);
  // NER-CD without a classifier uses each mention's own class: these bring none, so nothing changes.
  LinkCallOptions cd;
  cd.ner_cd = true;
  const auto constrained = tight.link(ms, cd);
  for (size_t i = 0; i < ms.size(); ++i) EXPECT_EQ(constrained[i].ranked.front().id, want[i].ranked.front().id);

  // Four callers at once through one queue, each with its own options: each gets its own answer.
  BatchQueue queue(roomy, {.max_batch = 64, .wait = std::chrono::milliseconds(2)});
  std::vector<std::thread> callers;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&, t] {
      LinkCallOptions call;
      call.top = t + 1;
      for (int r = 0; r < 5; ++r) {
        auto got = queue.link(ms, call);
        for (size_t i = 0; i < ms.size(); ++i)
          if (got[i].ranked.size() != std::min<size_t>(t + 1, want[i].ranked.size()) ||
              got[i].ranked.front().id != want[i].ranked.front().id)
            ++wrong;
      }
    });
  for (auto& c : callers) c.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(queue.pending(), 0u);
}

TEST_F(IndexTest, IndexedLinkingEqualsReEncoding) {
  IndexBuildOptions opt;
  opt.batch_size = 5;
  auto rep = build_entity_index(*kb, *model, dir.file("idx"), opt);
  EXPECT_EQ(rep.indexed, 12u);
  auto index = EntityIndex::open(dir.file("idx"));
  EXPECT_EQ(index.size(), 12u);
  EXPECT_EQ(index.dim(), 32);
  std::vector<float> v(32);
  auto e = kb->entity(7);
  auto want = model->embed_entities({model->input_encoder().encode_entity(e->description, e->ner_class)});
  ASSERT_TRUE(index.vector(7, v.data()));
  for (int i = 0; i < 32; ++i) EXPECT_NEAR(v[i], want[i], 1e-5);
  EXPECT_FALSE(index.vector(99, v.data()));

  LinkOptions lo;
  lo.top = 12;
  lo.cache_entity_vectors = false;
  BiEncoderLinker plain(*kb, *model, lo);
  lo.cache_entity_vectors = true;
  BiEncoderLinker indexed(*kb, *model, lo, &index);
  auto a = plain.link(mentions()), b = indexed.link(mentions());
  ASSERT_EQ(a.size(), 3u);
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].ranked.size(), b[i].ranked.size());
    EXPECT_EQ(a[i].ranked[0].id, b[i].ranked[0].id);  // same argmax
    for (size_t r = 0; r < a[i].ranked.size(); ++r) EXPECT_NEAR(a[i].ranked[r].score, b[i].ranked[r].score, 1e-5);
  }
  EXPECT_EQ(indexed.cached_entities(), 0u);  // everything came from the index
}

// The bi-encoder ranks the candidates a mention brought, scored as the alias table's would be:
// given exactly the alias table's set, the same answer; given a subset, only that subset.
TEST_F(IndexTest, BiEncoderRanksTheCandidatesAMentionBrings) {
  BiEncoderLinker linker(*kb, *model, {});
  auto ms = mentions();
  const auto from_table = linker.link(ms);
  std::vector<GivenCandidate> all, some;
  const auto w1 = kb->alias("w1");
  ASSERT_TRUE(w1);
  for (int64_t id : *w1) all.push_back({id, ""});
  some = {{7, ""}, {std::nullopt, "E9"}};  // under alias w2, not w1
  ms[0].candidates = all;
  ms[1].candidates = some;
  const auto given = linker.link(ms);
  ASSERT_EQ(given[0].ranked.size(), from_table[0].ranked.size());
  for (size_t r = 0; r < given[0].ranked.size(); ++r) {
    EXPECT_EQ(given[0].ranked[r].id, from_table[0].ranked[r].id);
    EXPECT_FLOAT_EQ(given[0].ranked[r].score, from_table[0].ranked[r].score);
  }
  EXPECT_EQ(given[1].candidates, 2u);
  for (const auto& e : given[1].ranked) EXPECT_TRUE(e.id == 7 || e.id == 9) << e.id;
  ms[2].candidates = std::vector<GivenCandidate>{{42, ""}};
  EXPECT_THROW(linker.link(ms), FormatError);
}

// An index cut short in place under a running process: an error naming it, not SIGBUS.
TEST_F(IndexTest, IndexCutShortWhileOpenGivesErrors) {
  build_entity_index(*kb, *model, dir.file("idx"), {});
  auto index = EntityIndex::open(dir.file("idx"));
  std::vector<float> v(32);
  ASSERT_TRUE(index.vector(7, v.data()));
  std::filesystem::resize_file(dir.file("idx"), 0);
  try {
    (void)index.vector(7, v.data());
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("idx: the index was cut short or rewritten while open"), std::string::npos) << e.what();
  }
}

TEST_F(IndexTest, HalfPrecisionIndex) {
  IndexBuildOptions opt;
  opt.fp16 = true;
  build_entity_index(*kb, *model, dir.file("idx16"), opt);
  auto index = EntityIndex::open(dir.file("idx16"));
  std::vector<float> v(32);
  ASSERT_TRUE(index.vector(3, v.data()));
  auto e = kb->entity(3);
  auto want = model->embed_entities({model->input_encoder().encode_entity(e->description, e->ner_class)});
  for (int i = 0; i < 32; ++i) EXPECT_NEAR(v[i], want[i], 2e-3 * std::max(1.f, std::abs(want[i])));
  build_entity_index(*kb, *model, dir.file("idx32"), {});
  // The vectors take half the bytes (headers and ids are the same).
  EXPECT_EQ(fs::file_size(dir.file("idx32")) - fs::file_size(dir.file("idx16")), 12u * 32u * 2u);
}

TEST_F(IndexTest, InterruptedBuildResumesToTheSameIndex) {
  IndexBuildOptions opt;
  opt.batch_size = 2;
  build_entity_index(*kb, *model, dir.file("whole"), opt);
  int calls = 0;
  opt.progress = [&](std::string_view, uint64_t, uint64_t) {
    if (++calls == 3) throw std::runtime_error("killed");
  };
  EXPECT_THROW(build_entity_index(*kb, *model, dir.file("resumed"), opt), std::runtime_error);
  EXPECT_TRUE(fs::exists(dir.file("resumed.partial")));
  EXPECT_FALSE(fs::exists(dir.file("resumed")));
  // A torn record at the end (a kill during a write) is dropped.
  { std::ofstream(dir.file("resumed.partial"), std::ios::app) << "torn"; }
  opt.progress = nullptr;
  auto rep = build_entity_index(*kb, *model, dir.file("resumed"), opt);
  EXPECT_EQ(rep.resumed, 6u);
  EXPECT_EQ(rep.indexed, 12u);
  EXPECT_FALSE(fs::exists(dir.file("resumed.partial")));
  auto a = EntityIndex::open(dir.file("whole")), b = EntityIndex::open(dir.file("resumed"));
  std::vector<float> va(32), vb(32);
  for (int id = 1; id <= 12; ++id) {
    ASSERT_TRUE(a.vector(id, va.data()));
    ASSERT_TRUE(b.vector(id, vb.data()));
    EXPECT_EQ(va, vb) << id;
  }
}

TEST_F(IndexTest, OtherModelAndCorruptFilesAreRefused) {
  build_entity_index(*kb, *model, dir.file("idx"), {});
  auto index = EntityIndex::open(dir.file("idx"));
  LoadOptions lo;
  lo.vocab = kFix + "/hf";
  lo.window = 32;
  lo.ner_r = false;  // another NER-R setting: other entity vectors
  auto other = LinkerModel::load(kFix + "/ner4el.ckpt", lo);
  try {
    index.check_model(other, "idx");
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("built with another model"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(index.check_model(*model, "idx"));
  std::string bytes = test::read_file(dir.file("idx"));
  test::write_file(dir.file("cut"), bytes.substr(0, bytes.size() - 64));
  EXPECT_THROW(EntityIndex::open(dir.file("cut")), FormatError);
  test::write_file(dir.file("magic"), "NOTANIDX" + bytes.substr(8));
  EXPECT_THROW(EntityIndex::open(dir.file("magic")), FormatError);
  // Crafted headers whose sizes wrap around 2^64 (count * 8, count * dim * 4) once passed the check
  // and crashed 'link --index' on a 256-byte file.
  for (const std::string fields : {R"("count": 2305843009213693952, "dim": 4)", R"("count": 4611686018427387904, "dim": 16)",
                                   R"("count": 1, "dim": -3)", R"("count": 1, "dim": "x")"}) {
    std::string header = R"({"fingerprint": "x", "dtype": "f32", "ids_offset": 200, "vectors_offset": 200, )" + fields + "}";
    std::string file = bytes.substr(0, 12);
    const uint32_t hlen = static_cast<uint32_t>(header.size());
    file.append(reinterpret_cast<const char*>(&hlen), 4);
    file += header;
    file.resize(256, '\0');
    test::write_file(dir.file("wrap"), file);
    try {
      EntityIndex::open(dir.file("wrap"));
      FAIL() << fields;
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find("wrap"), std::string::npos) << e.what();  // names the file
    }
  }
  std::string future = bytes;
  future[8] = 9;
  test::write_file(dir.file("future"), future);
  try {
    EntityIndex::open(dir.file("future"));
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("format version 9"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

const std::vector<std::string> kEighteen{"PER",  "LOC",  "ORG",   "ANIM", "BIO", "CEL",   "DIS",   "EVE",  "FOOD",
                                        "INST", "MEDIA", "MON", "NUM",  "PHYS", "PLANT", "SUPER", "TIME", "VEHI"};

// The fixture's NER classifier over the 18 classes of docs/reference.md.
NerClassifier fixture_classifier() {
  LoadOptions lo;
  lo.vocab = kFix + "/hf";
  lo.window = 32;
  return NerClassifier::load(kFix + "/ner_classifier.pt", kEighteen, lo);
}

// NER-CD in the linker: candidates the rule excludes end with normalised score 0 and rank after
// every kept candidate with a positive score.
TEST_F(IndexTest, NerConstrainedDecodingInTheLinker) {
  const auto& classes = kEighteen;
  auto ner = fixture_classifier();
  LinkOptions opt;
  opt.top = 12;
  opt.ner_cd = true;
  opt.cd.quirk_substring_match = false;
  BiEncoderLinker linker(*kb, *model, opt, nullptr, &ner);
  auto ms = mentions();
  auto results = linker.link(ms);
  for (size_t i = 0; i < ms.size(); ++i) {
    auto probs = ner.predict({ner.input_encoder().encode_mention(ms[i].left_context, ms[i].mention, ms[i].right_context)})[0];
    auto top3 = top_classes(probs, 3);
    bool seen_zero = false;
    for (const auto& e : results[i].ranked) {
      bool allowed = probs[top3[0]] > 0.5f ? e.ner_class == classes[top3[0]]
                                           : (e.ner_class == classes[top3[0]] || e.ner_class == classes[top3[1]] ||
                                              e.ner_class == classes[top3[2]]);
      ASSERT_TRUE(e.normalised.has_value());
      if (!allowed) EXPECT_EQ(*e.normalised, 0.0) << e.title;
      if (*e.normalised == 0.0) seen_zero = true;
      else EXPECT_FALSE(seen_zero) << "a positive score ranks after a zeroed one";
    }
  }
  // Without a classifier, each mention's own class (the tagger's, or a line's "ner") is the top class
  // with certainty: every other class is zeroed.
  BiEncoderLinker own(*kb, *model, opt);
  for (auto& m : ms) m.ner = "LOC";
  size_t zeroed = 0;
  for (const auto& r : own.link(ms)) {
    if (r.ranked.size() < 2) continue;
    for (const auto& e : r.ranked)
      if (e.ner_class != "LOC") {
        EXPECT_EQ(*e.normalised, 0.0) << e.title;
        ++zeroed;
      }
  }
  EXPECT_GT(zeroed, 0u);
}

// Quirk ner-cd-dropout: the release never switched its classifier to evaluation mode, so its
// dropouts act at test time. Ours are seeded per call: a call repeats, and evaluation mode returns.
TEST_F(IndexTest, ReleaseDropoutClassifierIsStochasticButRepeatable) {
  auto ner = fixture_classifier();
  std::vector<MentionInput> in;
  for (const auto& m : mentions()) in.push_back(ner.input_encoder().encode_mention(m.left_context, m.mention, m.right_context));
  const auto eval1 = ner.predict(in);
  const auto drop1 = ner.predict(in, 32, /*release_dropout=*/true);
  const auto drop2 = ner.predict(in, 32, true);
  EXPECT_EQ(drop1, drop2);
  EXPECT_NE(drop1, eval1);
  for (const auto& row : drop1) {
    float sum = 0;
    for (float p : row) sum += p;
    EXPECT_NEAR(sum, 1.0f, 1e-5f);
  }
  EXPECT_EQ(ner.predict(in), eval1);  // evaluation mode again afterwards
}

}  // namespace
}  // namespace ner4el
