// The encoder and the weight loaders against the independent Python reference of
// tests/data/make_bert_fixture.py (plain torch.nn.functional).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <optional>
#include <nlohmann/json.hpp>

#include "ner4el/error.h"
#include "ner4el/model.h"
#include "ner4el/torch/bert.h"
#include "test_util.h"

namespace ner4el {
namespace {

namespace fs = std::filesystem;
const std::string kFix = NER4EL_BERT_FIXTURE;

nlohmann::json reference() { return nlohmann::json::parse(test::read_file(kFix + "/reference.json")); }

std::vector<MentionInput> mention_inputs(const nlohmann::json& ref) {
  std::vector<MentionInput> out;
  for (size_t i = 0; i < ref["mention_ids"].size(); ++i) {
    MentionInput m;
    m.ids = ref["mention_ids"][i].get<std::vector<int>>();
    for (int id : m.ids) m.attention_mask.push_back(id != 0);
    m.mention_position = ref["mention_positions"][i];
    out.push_back(m);
  }
  return out;
}

std::vector<EntityInput> entity_inputs(const nlohmann::json& ref) {
  std::vector<EntityInput> out;
  for (const auto& row : ref["entity_ids"]) {
    EntityInput e;
    e.ids = row.get<std::vector<int>>();
    for (int id : e.ids) e.attention_mask.push_back(id != 0);
    out.push_back(e);
  }
  return out;
}

void expect_close(const std::vector<float>& got, const nlohmann::json& want, double tol) {
  std::vector<float> flat;
  for (const auto& row : want)
    for (const auto& x : row) flat.push_back(x.get<float>());
  ASSERT_EQ(got.size(), flat.size());
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(static_cast<double>(got[i]) - flat[i]));
  EXPECT_LT(worst, tol);
}

LoadOptions with_vocab() {
  LoadOptions o;
  o.vocab = kFix + "/hf";
  return o;
}

TEST(Encoder, LightningCheckpointMatchesPyTorch) {
  auto ref = reference();
  auto m = LinkerModel::load(kFix + "/ner4el.ckpt", with_vocab());
  EXPECT_EQ(m.config().vocab_size, 42);
  EXPECT_EQ(m.tokenizer().token_to_id("[E]"), 40);
  expect_close(m.embed_mentions(mention_inputs(ref)), ref["mention_vectors"], 1e-5);
  auto ev = m.embed_entities(entity_inputs(ref), 2);  // a batch size that splits the inputs
  expect_close(ev, ref["entity_vectors"], 1e-5);
  auto mv = m.embed_mentions(mention_inputs(ref));
  const int d = m.dim();
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_NEAR(cosine(&mv[i * d], &ev[j * d], d), ref["scores"][i][j].get<double>(), 1e-5);
}

TEST(Encoder, OnAGpuTheVectorsArePyTorchs) {
  // Runs where this libtorch has CUDA and a GPU is visible (CI's CUDA job; README "GPU builds").
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA in this libtorch or no GPU";
  auto ref = reference();
  LoadOptions o = with_vocab();
  o.device = "cuda";
  auto m = LinkerModel::load(kFix + "/ner4el.ckpt", o);
  EXPECT_EQ(m.device(), "cuda");
  expect_close(m.embed_mentions(mention_inputs(ref)), ref["mention_vectors"], 1e-4);
  expect_close(m.embed_entities(entity_inputs(ref), 2), ref["entity_vectors"], 1e-4);
  test::TempDir dir;
  m.save(dir.file("model"));  // the weights come back to the CPU to be written
  expect_close(LinkerModel::load(dir.file("model")).embed_mentions(mention_inputs(ref)), ref["mention_vectors"], 1e-5);
}

TEST(Encoder, HuggingFaceFoldersMatchPyTorch) {
  auto ref = reference();
  for (const char* dir : {"/hf", "/hf_st"}) {
    auto m = LinkerModel::load(kFix + dir);
    // The pre-trained 40-row vocabulary grows by the two markers, as the release's resize did.
    EXPECT_EQ(m.config().vocab_size, 42) << dir;
    expect_close(m.embed_entities(entity_inputs(ref)), ref["entity_vectors"], 1e-5);
  }
  // The pre-training head of a BertForPreTraining file is reported, not loaded.
  auto m = LinkerModel::load(kFix + "/hf");
  ASSERT_EQ(m.warnings().size(), 1u);
  EXPECT_NE(m.warnings()[0].find("cls.predictions.bias"), std::string::npos);
}

TEST(Encoder, HalfPrecisionWeightsAreConverted) {
  auto ref = reference();
  auto m = LinkerModel::load(kFix + "/hf_fp16");
  expect_close(m.embed_entities(entity_inputs(ref)), ref["entity_vectors_fp16"], 1e-5);
  auto sd = read_state_dict(kFix + "/hf_fp16/pytorch_model.bin", true);
  EXPECT_EQ(sd.at("bert.pooler.dense.weight").scalar_type(), torch::kFloat16);
}

// Loading grows the embeddings for [E] and [\E] from a generator of its own: the caller's global
// generator is left where it was, and the new rows are the same on every load.
TEST(Encoder, LoadingLeavesTheGlobalGeneratorAlone) {
  torch::manual_seed(7);
  const auto want = torch::rand({4});
  torch::manual_seed(7);
  auto a = LinkerModel::load(kFix + "/hf");
  EXPECT_EQ(a.config().vocab_size, 42);  // grown from the folder's 40 pieces
  EXPECT_TRUE(torch::equal(torch::rand({4}), want));
  auto b = LinkerModel::load(kFix + "/hf");
  EXPECT_EQ(a.fingerprint(), b.fingerprint());
}

TEST(Encoder, NerClassifierMatchesPyTorch) {
  auto ref = reference();
  std::vector<std::string> classes{"PER", "LOC", "ORG", "ANIM", "BIO", "CEL", "DIS", "EVE", "FOOD",
                                   "INST", "MEDIA", "MON", "NUM", "PHYS", "PLANT", "SUPER", "TIME", "VEHI"};
  auto c = NerClassifier::load(kFix + "/ner_classifier.pt", classes, with_vocab());
  auto probs = c.predict(mention_inputs(ref));
  ASSERT_EQ(probs.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    auto logits = torch::tensor(ref["ner_logits"][i].get<std::vector<float>>());
    auto want = torch::softmax(logits, 0);
    for (size_t k = 0; k < classes.size(); ++k) EXPECT_NEAR(probs[i][k], want[k].item<float>(), 1e-5);
  }
  classes.pop_back();
  EXPECT_THROW(NerClassifier::load(kFix + "/ner_classifier.pt", classes, with_vocab()), FormatError);
}

TEST(Encoder, OwnFormatRoundTrip) {
  auto ref = reference();
  test::TempDir dir;
  auto m = LinkerModel::load(kFix + "/ner4el.ckpt", with_vocab());
  m.save(dir.file("model"));
  auto again = LinkerModel::load(dir.file("model"));
  expect_close(again.embed_mentions(mention_inputs(ref)), ref["mention_vectors"], 1e-5);
  EXPECT_EQ(again.tokenizer().size(), 42);
  // A newer format version is refused with an upgrade hint.
  auto cfg = nlohmann::json::parse(test::read_file(dir.file("model/config.json")));
  cfg["format_version"] = 99;
  test::write_file(dir.file("model/config.json"), cfg.dump());
  try {
    LinkerModel::load(dir.file("model"));
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("format version 99"), std::string::npos) << e.what();
  }
}

// What a folder is gets decided once, from one reading of its config.json: a saved linker is not
// taken for a classifier, and a sentence-transformers pooling file that cannot be read is an error
// naming it, not a silent switch to another way of reading vectors.
TEST(Encoder, FolderKindAndPoolingAreReadOnce) {
  test::TempDir dir;
  LinkerModel::load(kFix + "/ner4el.ckpt", with_vocab()).save(dir.file("model"));
  try {
    NerClassifier::load(dir.file("model"), {"PER"});
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("is a 'linker', not a ner_classifier"), std::string::npos) << e.what();
  }
  const std::string hf = dir.file("hf");
  std::filesystem::copy(kFix + "/hf", hf, std::filesystem::copy_options::recursive);
  EXPECT_FALSE(LinkerModel::load(hf).input_encoder().options().sentence_style);
  std::filesystem::create_directories(hf + "/1_Pooling");
  test::write_file(hf + "/1_Pooling/config.json", "{\"pooling_mode_mean_tokens\": true}");
  EXPECT_TRUE(LinkerModel::load(hf).input_encoder().options().sentence_style);
  test::write_file(hf + "/1_Pooling/config.json", "{\"pooling_mode_mean_tokens\": tru");
  try {
    LinkerModel::load(hf);
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("1_Pooling/config.json: not valid JSON"), std::string::npos) << e.what();
  }
}

// Smallest cosine between rows of got and the reference's rows.
double min_cosine(const std::vector<float>& got, const nlohmann::json& want) {
  double worst = 1;
  size_t off = 0;
  for (const auto& row : want) {
    std::vector<float> w;
    for (const auto& x : row) w.push_back(x.get<float>());
    worst = std::min(worst, static_cast<double>(cosine(got.data() + off, w.data(), static_cast<int>(w.size()))));
    off += w.size();
  }
  return worst;
}

TEST(Encoder, ReducedPrecisionStaysCloseToPyTorchFp32) {
  auto ref = reference();
  auto fp32 = LinkerModel::load(kFix + "/ner4el.ckpt", with_vocab());
  for (const std::string dtype : {"bf16", "int8"}) {
    auto opt = with_vocab();
    opt.dtype = dtype;
    std::optional<LinkerModel> m;
    try {
      m.emplace(LinkerModel::load(kFix + "/ner4el.ckpt", opt));
    } catch (const InvalidArgument& e) {  // a CPU without AVX-512 BF16: said so, not run wrongly
      EXPECT_NE(std::string(e.what()).find(dtype), std::string::npos) << e.what();
      continue;
    }
    EXPECT_EQ(m->dtype(), dtype);
    const auto mv = m->embed_mentions(mention_inputs(ref)), ev = m->embed_entities(entity_inputs(ref));
    EXPECT_GT(min_cosine(mv, ref["mention_vectors"]), 0.999) << dtype;
    EXPECT_GT(min_cosine(ev, ref["entity_vectors"]), 0.999) << dtype;
    // Not the fp32 numbers either: the products really ran in the other type.
    EXPECT_GT(std::abs(mv[0] - fp32.embed_mentions(mention_inputs(ref))[0]), 0.0f) << dtype;
    // The fingerprint is the fp32 weights', so one index serves every dtype; saving is refused.
    EXPECT_EQ(m->fingerprint(), fp32.fingerprint());
    test::TempDir dir;
    EXPECT_THROW(m->save(dir.file("model")), InvalidArgument);
  }
}

// Inputs are batched by length with their padding dropped; the rows come back in input order and
// equal one-at-a-time encoding.
TEST(Encoder, LengthBatchingKeepsInputOrder) {
  auto ref = reference();
  auto m = LinkerModel::load(kFix + "/ner4el.ckpt", with_vocab());
  auto inputs = mention_inputs(ref);
  // Shorten every other input: same position, fewer context pieces, more padding.
  for (size_t i = 0; i < inputs.size(); i += 2) {
    auto& in = inputs[i];
    for (size_t t = static_cast<size_t>(in.mention_position) + 3; t < in.ids.size(); ++t) in.ids[t] = in.attention_mask[t] = 0;
  }
  const auto together = m.embed_mentions(inputs, /*batch_size=*/3);
  const size_t d = static_cast<size_t>(m.dim());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto alone = m.embed_mentions({inputs[i]}, 1);
    for (size_t k = 0; k < d; ++k) ASSERT_NEAR(together[i * d + k], alone[k], 1e-5) << "row " << i;
  }
  // The shortened rows really differ from the full ones (the test would pass on a no-op otherwise).
  const auto full = m.embed_mentions(mention_inputs(ref));
  EXPECT_GT(std::abs(together[0] - full[0]) + std::abs(together[1] - full[1]), 1e-4);
}

TEST(Encoder, WrongShapesAndMissingTensorsNameTheKey) {
  test::TempDir dir;
  fs::copy(kFix + "/hf", dir.file("hf"));
  auto cfg = nlohmann::json::parse(test::read_file(dir.file("hf/config.json")));
  cfg["intermediate_size"] = 48;
  test::write_file(dir.file("hf/config.json"), cfg.dump());
  try {
    LinkerModel::load(dir.file("hf"));
    FAIL();
  } catch (const FormatError& e) {
    std::string w = e.what();
    EXPECT_NE(w.find("'bert.encoder.layer.0.intermediate.dense.weight' has shape [64, 32], the model expects [48, 32]"),
              std::string::npos) << w;
  }
  LoadOptions lenient;
  lenient.strict = false;
  auto m = LinkerModel::load(dir.file("hf"), lenient);
  EXPECT_GE(m.warnings().size(), 4u);  // 2 layers x (intermediate, output) weights
  // A missing tensor.
  auto sd = read_state_dict(kFix + "/hf_st/model.safetensors");
  sd.erase("pooler.dense.bias");
  write_safetensors(dir.file("hf/model.safetensors"), sd);
  test::write_file(dir.file("hf/config.json"), test::read_file(kFix + "/hf/config.json"));
  fs::remove(dir.file("hf/pytorch_model.bin"));
  try {
    LinkerModel::load(dir.file("hf"));
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("missing tensor 'pooler.dense.bias' (expected shape [32])"), std::string::npos) << e.what();
  }
}

TEST(Encoder, CorruptFilesGiveErrors) {
  test::TempDir dir;
  std::string bin = test::read_file(kFix + "/hf/pytorch_model.bin");
  test::write_file(dir.file("cut.bin"), bin.substr(0, bin.size() / 2));
  EXPECT_THROW(read_state_dict(dir.file("cut.bin")), FormatError);
  test::write_file(dir.file("junk.bin"), "PK\x03\x04 not really a zip");
  EXPECT_THROW(read_state_dict(dir.file("junk.bin")), FormatError);
  std::string st = test::read_file(kFix + "/hf_st/model.safetensors");
  test::write_file(dir.file("cut.safetensors"), st.substr(0, st.size() - 100));
  try {
    read_state_dict(dir.file("cut.safetensors"));
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("data_offsets out of the file"), std::string::npos) << e.what();
  }
  test::write_file(dir.file("legacy.pt"), "\x80\x02\x8a\x0a");
  EXPECT_THROW(read_state_dict(dir.file("legacy.pt")), FormatError);
  EXPECT_THROW(read_state_dict(dir.file("absent.bin")), NotFound);
}

TEST(Encoder, MinMaxNormalisationFollowsSpec) {
  auto n = min_max_normalise({0.2f, 0.6f, 0.4f});
  EXPECT_FLOAT_EQ(n[0], 0.f);
  EXPECT_FLOAT_EQ(n[1], 1.f);
  EXPECT_FLOAT_EQ(n[2], 0.5f);
  EXPECT_TRUE(std::isnan(min_max_normalise({0.3f})[0]));  // one candidate: NaN, skipped in training
  auto mv = torch::tensor({{1.f, 0.f}}), ev = torch::tensor({{{1.f, 0.f}, {0.f, 1.f}, {1.f, 1.f}}});
  auto s = normalised_scores(mv, ev);
  EXPECT_NEAR(s[0][0].item<float>(), 1.f, 1e-6);
  EXPECT_NEAR(s[0][1].item<float>(), 0.f, 1e-6);
  EXPECT_NEAR(s[0][2].item<float>(), std::sqrt(0.5f), 1e-6);
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

// Safetensors headers with wrong JSON types once escaped as library exceptions (abort), and a shape
// whose size wraps around 2^64 was taken for a small tensor. Each is a FormatError naming the field.
TEST(Encoder, HostileSafetensorsHeadersNameTheField) {
  test::TempDir dir;
  auto write = [&](const std::string& header) {
    std::string b(8, '\0');
    const uint64_t n = header.size();
    std::memcpy(b.data(), &n, 8);
    b += header + std::string(8, '\0');
    test::write_file(dir.file("w.safetensors"), b);
    return dir.file("w.safetensors");
  };
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"({"w": {"dtype": 5, "shape": [1], "data_offsets": [0, 4]}})", "field 'dtype'"},
      {R"({"w": {"dtype": "F32", "shape": "x", "data_offsets": [0, 4]}})", "field 'shape'"},
      {R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", "field 'shape'"},
      {R"({"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 0]}})", "size overflows"},
      {R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, "4"]}})", "field 'data_offsets'"},
      {R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 18446744073709551615]}})", "out of the file's data"},
      {"{\"w\": " + std::string(500, '[') + std::string(500, ']') + "}", "nested deeper"},
  };
  for (const auto& [header, what] : cases) {
    try {
      read_state_dict(write(header));
      FAIL() << header.substr(0, 80);
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("w.safetensors"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

// config.json values of the wrong type or absurd size are FormatErrors naming the field (a string
// layer_norm_eps once escaped as a library exception; a 2^40 vocabulary wrapped an int).
TEST(Encoder, HostileConfigNamesTheField) {
  const std::string base = R"("vocab_size": 30, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16)";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"{" + base + R"(, "layer_norm_eps": "x"})", "layer_norm_eps"},
      {"{" + base + R"(, "initializer_range": -1})", "initializer_range"},
      {R"({"vocab_size": 1099511627776, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16})", "vocab_size"},
      {R"({"vocab_size": 1000000, "hidden_size": 1000000, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16})", "implausibly large"},
      {"[1, 2]", "expected a JSON object"},
      {R"({"bert": 5})", "bert"},
      {"{\"a\": " + std::string(300, '[') + std::string(300, ']') + "}", "nested deeper"},
  };
  for (const auto& [text, what] : cases) {
    try {
      BertConfig::from_json_text(text, "config.json");
      FAIL() << text.substr(0, 60);
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(BertConfig::from_json_text("{" + base + "}", "config.json").hidden_size, 8);
}

}  // namespace
}  // namespace ner4el
