// ner4el convert / embed / link --model on the tiny BERT fixture.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "ner4el/model.h"
#include "test_util.h"

namespace ner4el {
namespace {

const std::string kFix = NER4EL_BERT_FIXTURE;
std::string tool() { return NER4EL_TOOL; }

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

class ModelCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(test::run(tool() + " convert " + kFix + "/ner4el.ckpt --vocab " + kFix + "/hf --window 32 -o " +
                        dir.file("model") + " >/dev/null"),
              0);
    test::write_file(dir.file("m.jsonl"), R"({"mention": "w3 w4", "left_context": "w1 w2", "right_context": "w5"})" "\n"
                                          R"({"mention": "w6", "left_context": "", "right_context": "w7 w8", "output": "B"})" "\n");
  }
  test::TempDir dir;
};

TEST_F(ModelCli, EmbedMatchesTheLibraryAndWritesNpy) {
  std::string out;
  ASSERT_EQ(test::run(tool() + " embed --dtype fp32 --model " + dir.file("model") + " --data " + dir.file("m.jsonl"), &out), 0);
  auto rows = json_lines(out);
  ASSERT_EQ(rows.size(), 2u);
  auto m = LinkerModel::load(dir.file("model"));
  auto in = m.input_encoder().encode_mention("w1 w2", "w3 w4", "w5");
  auto v = m.embed_mentions({in});
  auto got = rows[0]["vector"].get<std::vector<float>>();
  ASSERT_EQ(got.size(), 32u);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], v[i], 1e-6);
  ASSERT_EQ(test::run(tool() + " embed --dtype fp32 --model " + dir.file("model") + " --data " + dir.file("m.jsonl") + " --npy " +
                      dir.file("v.npy") + " 2>/dev/null"),
            0);
  std::string script = "import numpy; a = numpy.load('" + dir.file("v.npy") + "'); print(a.shape, round(float(a[0,0]), 5))";
  out.clear();
  ASSERT_EQ(test::run(std::string(NER4EL_PYTHON) + " -c \"" + script + "\"", &out), 0);
  std::ostringstream want;
  want << "(2, 32) " << std::round(v[0] * 1e5) / 1e5;
  EXPECT_EQ(out.substr(0, 8), "(2, 32) ") << out;
  EXPECT_NEAR(std::stod(out.substr(8)), v[0], 1e-5);
}

TEST_F(ModelCli, EmbedEntitySideAndBadLines) {
  test::write_file(dir.file("e.jsonl"), R"({"description": "w7 w8 w9", "class": "PER"})" "\n" R"({"text": "x"})" "\n");
  std::string out;
  EXPECT_EQ(test::run(tool() + " embed --side entity --model " + dir.file("model") + " --data " + dir.file("e.jsonl") + " 2>&1", &out), 1);
  EXPECT_NE(out.find("e.jsonl:2: field 'description': missing"), std::string::npos) << out;
}

TEST_F(ModelCli, LinkWithModelRanksByCosine) {
  test::write_file(dir.file("kb.jsonl"),
                   R"({"id": 1, "title": "A", "description": "w7 w8 w9", "class": "PER", "aliases": ["w3 w4", "w6"]})" "\n"
                   R"({"id": 2, "title": "B", "description": "w10 w11", "class": "LOC", "count": 5, "aliases": ["w3 w4", "w6"]})" "\n");
  ASSERT_EQ(test::run(tool() + " kb build --entities " + dir.file("kb.jsonl") + " -o " + dir.file("kb") + " >/dev/null"), 0);
  std::string out;
  ASSERT_EQ(test::run(tool() + " link --dtype fp32 --kb " + dir.file("kb") + " --model " + dir.file("model") + " -i " + dir.file("m.jsonl") +
                          " 2>/dev/null",
                      &out),
            0);
  auto rows = json_lines(out);
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& r : rows) {
    ASSERT_EQ(r["alternatives"].size(), 2u);
    // Best first, by cosine; the best has normalised score 1 and the other 0 (the reference's min-max).
    EXPECT_GE(r["alternatives"][0]["score"].get<double>(), r["alternatives"][1]["score"].get<double>());
    EXPECT_DOUBLE_EQ(r["alternatives"][0]["normalised_score"].get<double>(), 1.0);
    EXPECT_DOUBLE_EQ(r["alternatives"][1]["normalised_score"].get<double>(), 0.0);
  }
  // The library computes the same cosine for the first mention's best candidate.
  auto m = LinkerModel::load(dir.file("model"));
  auto mv = m.embed_mentions({m.input_encoder().encode_mention("w1 w2", "w3 w4", "w5")});
  const bool a_first = rows[0]["entity_id"] == 1;
  auto ev = m.embed_entities({a_first ? m.input_encoder().encode_entity("w7 w8 w9", "PER")
                                      : m.input_encoder().encode_entity("w10 w11", "LOC")});
  EXPECT_NEAR(rows[0]["score"].get<double>(), cosine(mv.data(), ev.data(), m.dim()), 1e-5);
}

TEST_F(ModelCli, ConvertClassifierNeedsMatchingClasses) {
  std::string out;
  EXPECT_EQ(test::run(tool() + " convert --kind ner-classifier " + kFix + "/ner_classifier.pt --vocab " + kFix +
                          "/hf --classes PER,LOC -o " + dir.file("c") + " 2>&1",
                      &out),
            1);
  EXPECT_NE(out.find("has 18 outputs but 2 classes were given"), std::string::npos) << out;
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

TEST_F(ModelCli, IndexFromDataThenLinkWithIndexMatchesPlainLink) {
  test::write_file(dir.file("kb.jsonl"),
                   R"({"id": 1, "title": "A", "description": "w7 w8 w9", "class": "PER", "aliases": ["w3 w4", "w6"]})" "\n"
                   R"({"id": 2, "title": "B", "description": "w10 w11", "class": "LOC", "count": 5, "aliases": ["w3 w4", "w6"]})" "\n"
                   R"({"id": 3, "title": "C", "description": "w12", "class": "LOC", "aliases": ["w20"]})" "\n");
  ASSERT_EQ(test::run(tool() + " kb build --entities " + dir.file("kb.jsonl") + " -o " + dir.file("kb") + " >/dev/null"), 0);
  std::string out;
  ASSERT_EQ(test::run(tool() + " index --dtype fp32 --model " + dir.file("model") + " --kb " + dir.file("kb") + " --from-data " +
                          dir.file("m.jsonl") + " -o " + dir.file("idx"),
                      &out),
            0);
  EXPECT_NE(out.find(": 2 entity vectors of dimension 32"), std::string::npos) << out;  // C is no candidate
  std::string plain, indexed;
  ASSERT_EQ(test::run(tool() + " link --dtype fp32 --kb " + dir.file("kb") + " --model " + dir.file("model") + " -i " + dir.file("m.jsonl") +
                          " 2>/dev/null",
                      &plain),
            0);
  ASSERT_EQ(test::run(tool() + " link --dtype fp32 --kb " + dir.file("kb") + " --model " + dir.file("model") + " --index " +
                          dir.file("idx") + " -i " + dir.file("m.jsonl") + " 2>/dev/null",
                      &indexed),
            0);
  auto a = json_lines(plain), b = json_lines(indexed);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]["entity_id"], b[i]["entity_id"]);
    EXPECT_NEAR(a[i]["score"].get<double>(), b[i]["score"].get<double>(), 1e-5);
  }
  // An index needs the model it was made with: the count prior has none, and the default
  // pretrained model is another one.
  out.clear();
  EXPECT_EQ(test::run(tool() + " link --kb " + dir.file("kb") + " --model prior --index " + dir.file("idx") + " -i " +
                          dir.file("m.jsonl") + " 2>&1",
                      &out),
            1);
  EXPECT_NE(out.find("--index needs the --model"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(test::run(tool() + " link --kb " + dir.file("kb") + " --index " + dir.file("idx") + " -i " + dir.file("m.jsonl") +
                          " 2>&1",
                      &out),
            1);
  EXPECT_NE(out.find("was built with another model"), std::string::npos) << out;
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

// Careless arguments (issue #11): errors, never a loop, a runaway allocation or a deleted folder.
TEST_F(ModelCli, CarelessArgumentsAreRefused) {
  std::string out;
  // A directory as embed's data set (once read as an empty file, and an empty output written).
  std::filesystem::create_directories(dir.file("adir"));
  for (const char* side : {"mention", "entity"}) {
    out.clear();
    EXPECT_EQ(test::run(tool() + " embed --model " + dir.file("model") + " --side " + side + " --data " + dir.file("adir") + " 2>&1", &out), 1);
    EXPECT_NE(out.find("is a directory"), std::string::npos) << side << ": " << out;
  }
  // convert onto an existing folder: refused without --force; with it, only a model folder is replaced.
  EXPECT_EQ(test::run(tool() + " convert " + kFix + "/ner4el.ckpt --vocab " + kFix + "/hf -o " + dir.file("model") + " 2>&1", &out), 1);
  EXPECT_NE(out.find("already exists; --force"), std::string::npos) << out;
  std::filesystem::create_directories(dir.file("mine"));
  test::write_file(dir.file("mine/notes.txt"), "my notes");
  EXPECT_EQ(test::run(tool() + " convert " + kFix + "/ner4el.ckpt --vocab " + kFix + "/hf --force -o " + dir.file("mine") + " 2>&1", &out), 1);
  EXPECT_NE(out.find("is not a ner4el model folder"), std::string::npos) << out;
  EXPECT_EQ(test::read_file(dir.file("mine/notes.txt")), "my notes");
  EXPECT_FALSE(std::filesystem::exists(dir.file("mine.tmp")));
  EXPECT_EQ(test::run(tool() + " convert " + kFix + "/ner4el.ckpt --vocab " + kFix + "/hf --window 32 --force -o " +
                      dir.file("model") + " >/dev/null"),
            0);
  EXPECT_TRUE(std::filesystem::exists(dir.file("model/model.safetensors")));
  // index --batch 0 once looped forever.
  test::write_file(dir.file("kb.jsonl"), R"({"id": 1, "title": "A", "description": "w7 w8", "class": "PER", "aliases": ["w3 w4"]})" "\n");
  ASSERT_EQ(test::run(tool() + " kb build --entities " + dir.file("kb.jsonl") + " -o " + dir.file("kb") + " >/dev/null"), 0);
  EXPECT_EQ(test::run("timeout 60 " + tool() + " index --model " + dir.file("model") + " --kb " + dir.file("kb") + " --batch 0 -o " +
                      dir.file("idx") + " 2>&1", &out),
            1);
  EXPECT_NE(out.find("batch size must be at least 1"), std::string::npos) << out;
  // inputs --window 2000000000 once allocated without bound.
  test::write_file(dir.file("d.jsonl"), R"({"mention": "w3", "left_context": "w1", "right_context": "w5"})" "\n");
  EXPECT_EQ(test::run(tool() + " inputs --window 2000000000 --vocab " + dir.file("model") + " --data " + dir.file("d.jsonl") + " 2>&1", &out), 1);
  EXPECT_NE(out.find("window must be between 4 and 65536"), std::string::npos) << out;
}

}  // namespace
}  // namespace ner4el
