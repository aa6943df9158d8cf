#include <ATen/CPUGeneratorImpl.h>
#include "ner4el/model.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <cstring>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "ner4el/files.h"
#include "ner4el/json.h"
#include "model/model_impl.h"
#include "ner4el/torch/bert.h"

namespace ner4el {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// BertConfig

namespace {

/// A BERT configuration from config.json already parsed (a ner4el folder nests it under "bert").
BertConfig bert_config_from(nlohmann::json j, const std::string& source) {
  if (!j.is_object()) throw FormatError(source + ": expected a JSON object (a BERT config.json)");
  if (j.contains("bert")) j = j["bert"];  // ner4el model folders nest it
  if (!j.is_object()) throw FormatError(location(source, 0, "bert") + ": expected an object");
  BertConfig c;
  auto get_int = [&](const char* f, int& dst, bool required) {
    if (!j.contains(f)) {
      if (required) throw FormatError(location(source, 0, f) + ": missing (expected an integer)");
      return;
    }
    // Bounded, so that no crafted size asks for a runaway allocation.
    if (!j[f].is_number_integer() || j[f].get<int64_t>() <= 0 || j[f].get<int64_t>() > (1 << 20))
      throw FormatError(location(source, 0, f) + ": expected a positive integer up to 1048576, found " + j[f].dump());
    dst = j[f].get<int>();
  };
  get_int("vocab_size", c.vocab_size, true);
  get_int("hidden_size", c.hidden_size, true);
  get_int("num_hidden_layers", c.num_hidden_layers, true);
  get_int("num_attention_heads", c.num_attention_heads, true);
  get_int("intermediate_size", c.intermediate_size, true);
  get_int("max_position_embeddings", c.max_position_embeddings, false);
  get_int("type_vocab_size", c.type_vocab_size, false);
  auto get_double = [&](const char* f, double& dst) {
    if (!j.contains(f)) return;
    if (!j[f].is_number() || !(j[f].get<double>() >= 0)) throw FormatError(location(source, 0, f) + ": expected a non-negative number");
    dst = j[f].get<double>();
  };
  get_double("layer_norm_eps", c.layer_norm_eps);
  get_double("initializer_range", c.initializer_range);
  // The largest matrices: at most 2^32 numbers each (16 GB in fp32).
  for (auto [rows, name] : {std::pair{c.vocab_size, "vocab_size"}, {c.intermediate_size, "intermediate_size"},
                            {c.max_position_embeddings, "max_position_embeddings"}})
    if (static_cast<int64_t>(rows) * c.hidden_size > (int64_t{1} << 32))
      throw FormatError(location(source, 0, name) + ": " + std::to_string(rows) + " x hidden_size " + std::to_string(c.hidden_size) +
                        " is an implausibly large matrix");
  if (j.contains("hidden_act")) {
    if (!j["hidden_act"].is_string()) throw FormatError(location(source, 0, "hidden_act") + ": expected a string");
    c.hidden_act = j["hidden_act"].get<std::string>();
  }
  if (c.hidden_act != "gelu")
    throw FormatError(location(source, 0, "hidden_act") + ": \"" + c.hidden_act + "\" is not supported (only \"gelu\")");
  if (c.hidden_size % c.num_attention_heads)
    throw FormatError(location(source, 0, "num_attention_heads") + ": does not divide hidden_size " + std::to_string(c.hidden_size));
  return c;
}

}  // namespace

std::string read_text_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw NotFound("cannot open " + std::string(what) + " " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error("cannot read " + std::string(what) + " " + path);
  return ss.str();
}

BertConfig BertConfig::from_json_text(const std::string& text, const std::string& source) {
  return bert_config_from(parse_json(text, source), source);
}

BertConfig BertConfig::from_file(const std::string& path) {
  return from_json_text(read_text_file(path, "model configuration"), path);
}

std::string BertConfig::to_json_text() const {
  return nlohmann::json{{"model_type", "bert"},
                        {"vocab_size", vocab_size},
                        {"hidden_size", hidden_size},
                        {"num_hidden_layers", num_hidden_layers},
                        {"num_attention_heads", num_attention_heads},
                        {"intermediate_size", intermediate_size},
                        {"max_position_embeddings", max_position_embeddings},
                        {"type_vocab_size", type_vocab_size},
                        {"layer_norm_eps", layer_norm_eps},
                        {"initializer_range", initializer_range},
                        {"hidden_act", hidden_act}}
      .dump(2);
}

float cosine(const float* x, const float* y, int dim, float eps) {
  double xy = 0, xx = 0, yy = 0;
  for (int i = 0; i < dim; ++i) {
    xy += static_cast<double>(x[i]) * y[i];
    xx += static_cast<double>(x[i]) * x[i];
    yy += static_cast<double>(y[i]) * y[i];
  }
  return static_cast<float>(xy / std::sqrt(std::max(xx * yy, static_cast<double>(eps) * eps)));
}

std::vector<float> min_max_normalise(const std::vector<float>& s) {
  if (s.empty()) return {};
  auto [mn, mx] = std::minmax_element(s.begin(), s.end());
  std::vector<float> out(s.size());
  const float lo = *mn, range = *mx - *mn;
  for (size_t i = 0; i < s.size(); ++i) out[i] = (s[i] - lo) / range;  // 0/0 = NaN when all equal, as the release
  return out;
}

// ---------------------------------------------------------------------------------------------
// Locating the files of a model

namespace {

constexpr int kModelFormatVersion = 1;

/// A model's files and what they are, decided once: config.json is read and parsed once, and gives
/// both the BERT shape and (in a ner4el folder) the recorded settings.
struct ModelFiles {
  std::string config, weights, vocab;
  BertConfig bert;
  bool ner4el = false;        // our own folder format (else a Hugging Face folder or a release file)
  nlohmann::json meta;        // our config.json (ner4el format only)
  bool mean_pooling = false;  // a sentence-transformers folder (1_Pooling/config.json says mean)
};

std::string find_weights(const fs::path& p, const std::string& path) {
  if (!fs::is_directory(p)) return p.string();
  for (const char* w : {"model.safetensors", "pytorch_model.bin"})
    if (fs::exists(p / w)) return (p / w).string();
  throw NotFound(path + ": no model.safetensors or pytorch_model.bin in this folder (expected a Hugging Face or ner4el model folder)");
}

bool says_mean_pooling(const fs::path& pooling) {
  std::error_code ec;
  if (!fs::exists(pooling, ec)) return false;
  const nlohmann::json j = parse_json(read_text_file(pooling.string(), "pooling configuration"), pooling.string());
  if (!j.is_object()) throw FormatError(pooling.string() + ": expected a JSON object (sentence-transformers' pooling)");
  return j.value("pooling_mode_mean_tokens", false) == true;
}

ModelFiles locate(const std::string& path, const LoadOptions& opt) {
  ModelFiles f;
  fs::path p(path);
  if (!fs::exists(p)) throw NotFound(path + ": no such model file or folder");
  fs::path dir = fs::is_directory(p) ? p : p.parent_path();
  f.weights = find_weights(p, path);
  for (const fs::path& c : {dir / "config.json", opt.vocab.empty() ? fs::path() : fs::path(opt.vocab) / "config.json"})
    if (!c.empty() && fs::is_regular_file(c)) {
      f.config = c.string();
      break;
    }
  if (f.config.empty())
    throw NotFound(path + ": no config.json beside the weights; put the encoder's Hugging Face config.json there, or pass "
                   "--vocab with the Hugging Face folder (config.json + vocab.txt) the model was trained from");
  nlohmann::json j = parse_json(read_text_file(f.config, "model configuration"), f.config);
  if (j.is_object() && j.value("format", "") == "ner4el-model") {
    f.ner4el = true;
    const int v = j.value("format_version", 0);
    if (v > kModelFormatVersion)
      throw FormatError(f.config + ": ner4el model format version " + std::to_string(v) + ", this build reads up to version " +
                        std::to_string(kModelFormatVersion) + "; upgrade ner4el");
  } else {
    f.mean_pooling = says_mean_pooling(fs::path(f.config).parent_path() / "1_Pooling" / "config.json");
  }
  f.bert = bert_config_from(j, f.config);
  if (f.ner4el) f.meta = std::move(j);
  f.vocab = !opt.vocab.empty() ? opt.vocab : dir.string();
  return f;
}

/// The kind a ner4el folder records ("linker", "ner_classifier"). @throws FormatError for another.
void expect_kind(const ModelFiles& files, const std::string& kind) {
  if (files.ner4el && files.meta.value("kind", "") != kind)
    throw FormatError(files.config + ": this ner4el model is a '" + files.meta.value("kind", "?") + "', not a " + kind);
}

/// Writes a ner4el model folder (config.json with meta's fields, vocab.txt, model.safetensors) into
/// dir + ".tmp", then renames it to dir.
void write_model_folder(const std::string& dir, const StateDict& weights, nlohmann::json meta, const BertConfig& config,
                        const WordPieceTokenizer& tokenizer) {
  fs::path out(dir), tmp = dir + ".tmp";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  write_safetensors((tmp / "model.safetensors").string(), weights, {{"format", "pt"}, {"producer", "ner4el"}});
  meta["format"] = "ner4el-model";
  meta["format_version"] = kModelFormatVersion;
  meta["bert"] = nlohmann::json::parse(config.to_json_text());
  std::ofstream(tmp / "config.json") << meta.dump(2) << "\n";
  std::ofstream vocab(tmp / "vocab.txt");
  for (int i = 0; i < tokenizer.size(); ++i) vocab << tokenizer.id_to_token(i) << "\n";
  vocab.close();
  if (!vocab) throw Error("cannot write " + (tmp / "vocab.txt").string());
  // Only a ner4el model folder is ever replaced (never a folder the user keeps other things in),
  // and the old one goes only once the new one is in place.
  if (fs::exists(out)) {
    bool ours = false;
    if (fs::is_directory(out) && fs::is_regular_file(out / "config.json")) {
      std::ifstream in(out / "config.json");
      auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
      ours = j.is_object() && j.value("format", "") == "ner4el-model";
    }
    if (!ours) {
      fs::remove_all(tmp);
      throw InvalidArgument(dir + " exists and is not a ner4el model folder; it is left as it is (choose another output)");
    }
  }
  replace_dir(tmp.string(), out.string());
}

bool has_prefix(const StateDict& sd, const std::string& prefix) {
  return std::any_of(sd.begin(), sd.end(), [&](const auto& kv) { return kv.first.rfind(prefix, 0) == 0; });
}

std::vector<float> to_vector(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

/// The length of an input without its trailing padding (at least 1).
template <typename Input>
size_t unpadded_length(const Input& in) {
  size_t n = std::min(in.ids.size(), in.attention_mask.size());
  while (n > 1 && in.attention_mask[n - 1] == 0) --n;
  return std::max<size_t>(n, 1);
}

/// Runs forward(ids [B, T], mask [B, T], rows) -> [B, d] on batches of inputs (rows: the inputs'
/// indices in the batch) and returns the rows in input order (row-major floats).
/// by_length: inputs are batched by length, their trailing padding dropped, so a batch pads only to
/// its own longest (padding is masked, so a vector is the same up to float rounding); otherwise in
/// input order at full length (the release's batches, for reproducing its dropout draws).
template <typename Input, typename Forward>
std::vector<float> batched(const std::vector<Input>& inputs, int batch_size, torch::Device device, Forward forward,
                           bool by_length = true) {
  const size_t n = inputs.size(), step = static_cast<size_t>(std::max(1, batch_size));
  std::vector<size_t> order(n), length(n);
  for (size_t i = 0; i < n; ++i) {
    order[i] = i;
    length[i] = by_length ? unpadded_length(inputs[i]) : inputs[i].ids.size();
  }
  if (by_length) std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return length[a] > length[b]; });
  std::vector<float> out;
  size_t dim = 0;
  for (size_t b = 0; b < n; b += step) {
    const std::vector<size_t> rows(order.begin() + static_cast<std::ptrdiff_t>(b),
                                   order.begin() + static_cast<std::ptrdiff_t>(std::min(n, b + step)));
    size_t T = 0;
    for (size_t r : rows) T = std::max(T, length[r]);
    auto ids = torch::zeros({static_cast<int64_t>(rows.size()), static_cast<int64_t>(T)}, torch::kLong);
    auto mask = torch::zeros_like(ids);
    auto ia = ids.accessor<int64_t, 2>();
    auto ma = mask.accessor<int64_t, 2>();
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& in = inputs[rows[i]];
      for (size_t t = 0; t < std::min(length[rows[i]], in.ids.size()); ++t) {
        ia[static_cast<int64_t>(i)][static_cast<int64_t>(t)] = in.ids[t];
        ma[static_cast<int64_t>(i)][static_cast<int64_t>(t)] = t < in.attention_mask.size() ? in.attention_mask[t] : 0;
      }
    }
    auto v = to_vector(forward(ids.to(device), mask.to(device), rows));
    if (out.empty()) {
      dim = v.size() / rows.size();
      out.resize(n * dim);
    }
    for (size_t i = 0; i < rows.size(); ++i)
      std::copy(v.begin() + static_cast<std::ptrdiff_t>(i * dim), v.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim),
                out.begin() + static_cast<std::ptrdiff_t>(rows[i] * dim));
  }
  return out;
}

/// sentence-transformers' mean pooling: the average of the hidden states where the mask is 1.
torch::Tensor mean_pooled(const torch::Tensor& hidden, const torch::Tensor& mask) {
  auto m = mask.unsqueeze(-1).to(hidden.scalar_type());
  return (hidden * m).sum(1) / m.sum(1).clamp_min(1e-9);
}

torch::Tensor positions_of(const std::vector<MentionInput>& inputs, const std::vector<size_t>& rows) {
  auto pos = torch::empty({static_cast<int64_t>(rows.size())}, torch::kLong);
  auto pa = pos.accessor<int64_t, 1>();
  for (size_t i = 0; i < rows.size(); ++i) pa[static_cast<int64_t>(i)] = inputs[rows[i]].mention_position;
  return pos;
}

Precision precision_of(const std::string& dtype) {
  return dtype == "bf16" ? Precision::bf16 : dtype == "int8" ? Precision::int8 : Precision::fp32;
}

}  // namespace

std::string resolve_dtype(const std::string& requested, const std::string& device) {
  if (device != "cpu") {  // a GPU: bf16 or fp32; int8 is oneDNN's, on the CPU only
    if (requested == "int8") throw InvalidArgument("int8 runs on the CPU only (oneDNN); use --dtype bf16 or fp32 on " + device);
    if (requested == "auto") return "bf16";
    if (requested == "fp32" || requested == "bf16") return requested;
  }
  if (requested == "auto") return precision_supported(Precision::bf16) ? "bf16" : "fp32";
  if (requested != "fp32" && requested != "bf16" && requested != "int8")
    throw InvalidArgument("dtype must be fp32, bf16, int8 or auto, got '" + requested + "'");
  if (!precision_supported(precision_of(requested)))
    throw InvalidArgument(requested == "bf16"
                              ? "bf16 needs a CPU with AVX-512 BF16 (this one lacks it); use --dtype fp32 or auto"
                              : "int8 needs libtorch's oneDNN quantised engine, which this libtorch lacks; use --dtype fp32");
  return requested;
}

std::string resolve_device(const std::string& requested) {
  if (requested == "cpu") return requested;
  if (requested.rfind("cuda", 0) != 0)
    throw InvalidArgument("device must be cpu, cuda or cuda:N, got '" + requested + "'");
  torch::Device d(torch::kCPU);
  try {
    d = torch::Device(requested);
  } catch (const c10::Error&) {
    throw InvalidArgument("device must be cpu, cuda or cuda:N, got '" + requested + "'");
  }
  if (!torch::cuda::is_available())
    throw InvalidArgument("device " + requested +
                          ": this libtorch has no CUDA (or no GPU is visible); build against a CUDA libtorch "
                          "(README, \"GPU builds\") or use --device cpu");
  const int64_t n = static_cast<int64_t>(torch::cuda::device_count());
  if (d.has_index() && d.index() >= n)
    throw InvalidArgument("device " + requested + ": there are " + std::to_string(n) + " GPUs (cuda:0 to cuda:" +
                          std::to_string(n - 1) + ")");
  return requested;
}


// ---------------------------------------------------------------------------------------------
// LinkerModel

LinkerModel::LinkerModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LinkerModel::~LinkerModel() = default;
LinkerModel::LinkerModel(LinkerModel&&) noexcept = default;
LinkerModel& LinkerModel::operator=(LinkerModel&&) noexcept = default;


LinkerModel LinkerModel::load(const std::string& path, const LoadOptions& opt) {
  KeepGlobalGenerator keep;
  auto files = locate(path, opt);
  auto impl = std::make_unique<Impl>();
  impl->vocab_path = files.vocab;
  impl->window = files.ner4el ? files.meta.value("window", opt.window) : opt.window;
  impl->ner_r = files.ner4el ? files.meta.value("ner_r", opt.ner_r) : opt.ner_r;
  std::string style = opt.style;
  if (style == "auto") style = files.ner4el ? files.meta.value("style", "release") : files.mean_pooling ? "sentence" : "release";
  if (style != "release" && style != "sentence")
    throw InvalidArgument("model style must be release, sentence or auto, got '" + style + "'");
  impl->sentence = style == "sentence";
  expect_kind(files, "linker");
  const BertConfig& cfg = files.bert;
  StateDict sd = read_state_dict(files.weights, opt.keep_half_precision);
  auto make = [&](const std::string& prefix) {
    BertEncoder enc(cfg);
    enc->load(sd, prefix, opt.strict, impl->warnings, files.weights);
    return enc;
  };
  if (files.ner4el) {
    impl->mention = make("encoder.");
    impl->entity = has_prefix(sd, "entity_encoder.") ? make("entity_encoder.") : impl->mention;
  } else if (has_prefix(sd, "bert_model.") || has_prefix(sd, "mention_encoder.")) {
    // NER4EL checkpoint: bert_model, mention_encoder and entity_encoder name one shared encoder,
    // unless it was trained with separate encoders (then mention_ and entity_encoder differ).
    const std::string key = "embeddings.word_embeddings.weight";
    bool separate = sd.count("mention_encoder." + key) && sd.count("entity_encoder." + key) &&
                    !torch::equal(sd["mention_encoder." + key], sd["entity_encoder." + key]);
    if (separate) {
      impl->mention = make("mention_encoder.");
      impl->entity = make("entity_encoder.");
    } else {
      const std::string prefix = has_prefix(sd, "bert_model.") ? "bert_model." : "mention_encoder.";
      impl->mention = make(prefix);
      impl->entity = impl->mention;
      for (const auto& [k, v] : sd) {  // the aliases of the shared encoder are expected, not extras
        if (k.rfind(prefix, 0) == 0 || k.rfind("mention_encoder.", 0) == 0 || k.rfind("entity_encoder.", 0) == 0) continue;
        impl->warnings.push_back(files.weights + ": ignored tensor '" + k + "'");
      }
    }
  } else {
    const std::string prefix = has_prefix(sd, "bert.") ? "bert." : "";
    if (!prefix.empty()) {  // pre-training heads (cls.*) of a BertForPreTraining file are not used
      for (auto it = sd.begin(); it != sd.end();) {
        if (it->first.rfind("bert.", 0) != 0) {
          impl->warnings.push_back(files.weights + ": ignored tensor '" + it->first + "'");
          it = sd.erase(it);
        } else {
          ++it;
        }
      }
    }
    impl->mention = make(prefix);
    impl->entity = impl->mention;
  }
  impl->finish(opt);
  const std::string device = resolve_device(opt.device);
  const std::string dtype = resolve_dtype(opt.dtype, device);
  LinkerModel model(std::move(impl));
  if (dtype != "fp32") {
    (void)model.fingerprint();  // of the fp32 weights, before they are converted
    model.impl_->mention->set_precision(precision_of(dtype));
    model.impl_->entity->set_precision(precision_of(dtype));  // a no-op when the encoder is shared
  }
  model.impl_->dtype = dtype;
  model.impl_->device_name = device;
  model.impl_->device = torch::Device(device);
  model.impl_->mention->to(model.impl_->device);
  if (model.impl_->entity.get() != model.impl_->mention.get()) model.impl_->entity->to(model.impl_->device);
  return model;
}

void LinkerModel::save(const std::string& dir) const {
  if (impl_->dtype != "fp32")
    throw InvalidArgument("this model was loaded in " + impl_->dtype + " for inference; load it in fp32 to save it");
  StateDict sd;
  for (const auto& p : impl_->mention->named_parameters()) sd["encoder." + p.key()] = p.value().to(torch::kCPU);
  if (impl_->entity.get() != impl_->mention.get())
    for (const auto& p : impl_->entity->named_parameters()) sd["entity_encoder." + p.key()] = p.value().to(torch::kCPU);
  write_model_folder(dir, sd,
                     {{"kind", "linker"}, {"window", impl_->window}, {"ner_r", impl_->ner_r},
                      {"style", impl_->sentence ? "sentence" : "release"}},
                     impl_->config, *impl_->tokenizer);
}

const BertConfig& LinkerModel::config() const { return impl_->config; }
const WordPieceTokenizer& LinkerModel::tokenizer() const { return *impl_->tokenizer; }
const InputEncoder& LinkerModel::input_encoder() const { return *impl_->inputs; }
EntityInput LinkerModel::entity_input(const Entity& e) const {
  return impl_->inputs->encode_entity(e.description, e.ner_class, e.title);
}
const std::string& LinkerModel::dtype() const { return impl_->dtype; }
const std::string& LinkerModel::device() const { return impl_->device_name; }
const std::vector<std::string>& LinkerModel::warnings() const { return impl_->warnings; }

const std::string& LinkerModel::fingerprint() const {
  std::call_once(impl_->fingerprint_once, [this] {
    // FNV-1a over 64-bit words of every entity-encoder tensor, plus the input settings.
    uint64_t h = 1469598103934665603ull;
    auto mix = [&](const void* data, size_t n) {
      const auto* p = static_cast<const unsigned char*>(data);
      size_t words = n / 8;
      for (size_t i = 0; i < words; ++i) {
        uint64_t w;
        std::memcpy(&w, p + 8 * i, 8);
        h = (h ^ w) * 1099511628211ull;
      }
      for (size_t i = words * 8; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
    };
    for (const auto& p : impl_->entity->named_parameters()) {
      mix(p.key().data(), p.key().size());
      auto t = p.value().to(torch::kCPU).contiguous();
      mix(t.data_ptr(), static_cast<size_t>(t.numel()) * t.element_size());
    }
    int settings[2] = {impl_->window, impl_->ner_r ? 1 : 0};
    mix(settings, sizeof settings);
    if (impl_->sentence) mix("sentence", 8);  // release-style fingerprints stay as they were
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    impl_->fingerprint = buf;
  });
  return impl_->fingerprint;
}

std::vector<float> LinkerModel::embed_mentions(const std::vector<MentionInput>& inputs, int batch_size) const {
  c10::InferenceMode guard;
  return batched(inputs, batch_size, impl_->device, [&](const torch::Tensor& ids, const torch::Tensor& mask, const std::vector<size_t>& rows) {
    if (impl_->sentence) return mean_pooled(impl_->mention->forward(ids, mask), mask);
    return impl_->mention->forward_at(ids, mask, positions_of(inputs, rows));
  });
}

std::vector<float> LinkerModel::embed_entities(const std::vector<EntityInput>& inputs, int batch_size) const {
  c10::InferenceMode guard;
  return batched(inputs, batch_size, impl_->device, [&](const torch::Tensor& ids, const torch::Tensor& mask, const std::vector<size_t>& rows) {
    if (impl_->sentence) return mean_pooled(impl_->entity->forward(ids, mask), mask);
    return impl_->entity->forward_at(ids, mask, torch::zeros({static_cast<int64_t>(rows.size())}, torch::kLong));
  });
}

// ---------------------------------------------------------------------------------------------
// NerClassifier

NerClassifier::NerClassifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NerClassifier::~NerClassifier() = default;
NerClassifier::NerClassifier(NerClassifier&&) noexcept = default;
NerClassifier& NerClassifier::operator=(NerClassifier&&) noexcept = default;

NerClassifier NerClassifier::load(const std::string& path, const std::vector<std::string>& classes, const LoadOptions& opt) {
  KeepGlobalGenerator keep;
  auto files = locate(path, opt);
  auto impl = std::make_unique<Impl>();
  impl->classes = classes;
  impl->window = opt.window;
  expect_kind(files, "ner_classifier");
  if (files.ner4el) {
    impl->classes = files.meta.value("classes", std::vector<std::string>{});
    impl->window = files.meta.value("window", opt.window);
  }
  const BertConfig& cfg = files.bert;
  StateDict sd = read_state_dict(files.weights, opt.keep_half_precision);
  std::vector<std::string> warnings;
  impl->encoder = BertEncoder(cfg);
  const std::string prefix = files.ner4el ? "encoder." : "mention_encoder.";
  StateDict enc;
  for (const auto& [k, v] : sd)
    if (k.rfind("linear.", 0) != 0) enc[k] = v;
  impl->encoder->load(enc, prefix, opt.strict, warnings, files.weights);
  if (!sd.count("linear.weight") || !sd.count("linear.bias"))
    throw FormatError(files.weights + ": missing tensor 'linear.weight' or 'linear.bias' (is this ner_classifier.pt?)");
  auto w = sd["linear.weight"], b = sd["linear.bias"];
  if (w.dim() != 2 || w.size(1) != cfg.hidden_size || b.dim() != 1 || b.size(0) != w.size(0))
    throw FormatError(files.weights + ": tensor 'linear.weight' has shape " + std::to_string(w.size(0)) + "x" +
                      std::to_string(w.dim() == 2 ? w.size(1) : 0) + ", expected (classes)x" + std::to_string(cfg.hidden_size));
  if (impl->classes.size() != static_cast<size_t>(w.size(0)))
    throw FormatError(files.weights + ": the classifier has " + std::to_string(w.size(0)) + " outputs but " +
                      std::to_string(impl->classes.size()) +
                      " classes were given; pass the class order of the KB the classifier was trained with");
  impl->linear = torch::nn::Linear(cfg.hidden_size, w.size(0));
  {
    torch::NoGradGuard ng;
    impl->linear->weight.copy_(w);
    impl->linear->bias.copy_(b);
  }
  impl->tokenizer = std::make_unique<WordPieceTokenizer>(WordPieceTokenizer::from_path(files.vocab));
  if (impl->encoder->config.vocab_size < impl->tokenizer->size())
    impl->encoder->resize_token_embeddings(impl->tokenizer->size(), at::detail::createCPUGenerator(2));
  impl->config = impl->encoder->config;
  InputOptions io;
  io.window = impl->window;
  impl->inputs = std::make_unique<InputEncoder>(*impl->tokenizer, io);
  impl->encoder->eval();
  const std::string device = resolve_device(opt.device);
  impl->encoder->set_precision(precision_of(resolve_dtype(opt.dtype, device)));
  impl->device = torch::Device(device);
  impl->encoder->to(impl->device);
  impl->linear->to(impl->device);
  return NerClassifier(std::move(impl));
}

void NerClassifier::save(const std::string& dir) const {
  for (const auto& layer : *impl_->encoder->layers)
    if (layer->as<BertLayer>()->precision != Precision::fp32)
      throw InvalidArgument("this classifier was loaded below fp32 for inference; load it in fp32 to save it");
  StateDict sd;
  for (const auto& p : impl_->encoder->named_parameters()) sd["encoder." + p.key()] = p.value().to(torch::kCPU);
  sd["linear.weight"] = impl_->linear->weight.to(torch::kCPU);
  sd["linear.bias"] = impl_->linear->bias.to(torch::kCPU);
  write_model_folder(dir, sd, {{"kind", "ner_classifier"}, {"window", impl_->window}, {"classes", impl_->classes}},
                     impl_->config, *impl_->tokenizer);
}

const std::vector<std::string>& NerClassifier::classes() const { return impl_->classes; }
const InputEncoder& NerClassifier::input_encoder() const { return *impl_->inputs; }

std::vector<std::vector<float>> NerClassifier::predict(const std::vector<MentionInput>& inputs, int batch_size,
                                                       bool release_dropout) const {
  c10::InferenceMode guard;
  std::unique_lock<std::mutex> lock(impl_->train_mode, std::defer_lock);
  struct EvalAgain {  // back to evaluation mode however the call ends
    NerClassifier::Impl* impl;
    ~EvalAgain() {
      if (impl) impl->encoder->eval();
    }
  } eval_again{release_dropout ? impl_.get() : nullptr};
  if (release_dropout) {
    lock.lock();
    impl_->encoder->train();
    impl_->dropout->train();
    torch::manual_seed(2);
  }
  auto flat = batched(
      inputs, batch_size, impl_->device,
      [&](const torch::Tensor& ids, const torch::Tensor& mask, const std::vector<size_t>& rows) {
        auto pos = positions_of(inputs, rows);
        if (!release_dropout) return torch::softmax(impl_->linear->forward(impl_->encoder->forward_at(ids, mask, pos)), -1);
        // As the release: every position through every layer, so dropout draws what it drew.
        auto mv = impl_->dropout->forward(mention_vectors(impl_->encoder->forward(ids, mask), pos));
        return torch::softmax(impl_->linear->forward(mv), -1);
      },
      /*by_length=*/!release_dropout);
  const size_t n = impl_->classes.size();
  std::vector<std::vector<float>> out;
  for (size_t i = 0; i < inputs.size(); ++i) out.emplace_back(flat.begin() + i * n, flat.begin() + (i + 1) * n);
  return out;
}

}  // namespace ner4el
