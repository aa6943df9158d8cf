#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "ner4el/error.h"
#include "ner4el/torch/bert.h"

namespace ner4el {

namespace {
// A plain module used as a name-space node, so parameter paths equal Hugging Face keys
// ("attention.self.query.weight") while the layer keeps direct handles to its sub-modules.
std::shared_ptr<torch::nn::Module> node(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}
std::string shape_str(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}
}  // namespace

BertEmbeddingsImpl::BertEmbeddingsImpl(const BertConfig& c) {
  word_embeddings = register_module("word_embeddings", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  position_embeddings = register_module("position_embeddings", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  token_type_embeddings = register_module("token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
}

torch::Tensor BertEmbeddingsImpl::forward(const torch::Tensor& input_ids) {
  const int64_t T = input_ids.size(1);
  if (T > position_embeddings->weight.size(0))
    throw InvalidArgument("input of " + std::to_string(T) + " tokens is longer than the model's " +
                          std::to_string(position_embeddings->weight.size(0)) + " positions");
  auto x = word_embeddings->forward(input_ids);
  x = x + position_embeddings->weight.narrow(0, 0, T).unsqueeze(0);
  x = x + token_type_embeddings->weight[0];  // token type 0 everywhere, as the release
  return LayerNorm->forward(x);
}

BertLayerImpl::BertLayerImpl(const BertConfig& c)
    : heads(c.num_attention_heads), head_dim(c.hidden_size / c.num_attention_heads) {
  if (c.hidden_size % c.num_attention_heads != 0)
    throw FormatError("config: hidden_size " + std::to_string(c.hidden_size) + " is not a multiple of num_attention_heads " +
                      std::to_string(c.num_attention_heads));
  const int H = c.hidden_size;
  auto ln = [&] { return torch::nn::LayerNorm(torch::nn::LayerNormOptions({H}).eps(c.layer_norm_eps)); };
  auto attention = node(*this, "attention");
  auto self = node(*attention, "self");
  query = self->register_module("query", torch::nn::Linear(H, H));
  key = self->register_module("key", torch::nn::Linear(H, H));
  value = self->register_module("value", torch::nn::Linear(H, H));
  auto att_out = node(*attention, "output");
  attention_dense = att_out->register_module("dense", torch::nn::Linear(H, H));
  attention_norm = att_out->register_module("LayerNorm", ln());
  intermediate = node(*this, "intermediate")->register_module("dense", torch::nn::Linear(H, c.intermediate_size));
  auto out = node(*this, "output");
  output_dense = out->register_module("dense", torch::nn::Linear(c.intermediate_size, H));
  output_norm = out->register_module("LayerNorm", ln());
  dropout = register_module("dropout", torch::nn::Dropout(0.1));
}

namespace {
c10::OperatorHandle quantized_op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "");
}

// oneDNN's dynamic int8 linear: activations quantised per call, weights per output channel.
c10::IValue pack_int8(const torch::nn::Linear& lin) {
  auto w = lin->weight.detach().to(torch::kFloat32).contiguous();
  auto scales = (w.abs().amax(1) / 127.0).clamp_min(1e-12).to(torch::kDouble);
  auto zero = torch::zeros({w.size(0)}, torch::kLong);
  auto qw = torch::quantize_per_channel(w, scales, zero, 0, torch::kQInt8);
  static const auto prepack = quantized_op("quantized::linear_prepack");
  std::vector<c10::IValue> stack{qw, c10::optional<torch::Tensor>(lin->bias.detach().to(torch::kFloat32).contiguous())};
  prepack.callBoxed(&stack);
  return stack.at(0);
}

torch::Tensor linear_int8(const torch::Tensor& x, const c10::IValue& packed) {
  static const auto op = quantized_op("quantized::linear_dynamic");
  std::vector<c10::IValue> stack{x.to(torch::kFloat32).contiguous(), packed, false};
  op.callBoxed(&stack);
  return stack.at(0).toTensor();
}
}  // namespace

bool precision_supported(Precision p) {
  switch (p) {
    case Precision::fp32:
      return true;
    case Precision::bf16:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512bf16") && torch::globalContext().userEnabledMkldnn();
    case Precision::int8: {
      const auto& engines = torch::globalContext().supportedQEngines();
      return std::find(engines.begin(), engines.end(), at::QEngine::ONEDNN) != engines.end();
    }
  }
  return false;
}

void BertLayerImpl::set_precision(Precision p) {
  if (p == precision) return;
  if (precision != Precision::fp32) throw InvalidArgument("an encoder's precision is set once, from fp32");
  if (!precision_supported(p)) throw InvalidArgument("this CPU or libtorch cannot run this precision");
  torch::NoGradGuard no_grad;
  const torch::nn::Linear* all[] = {&query, &key, &value, &attention_dense, &intermediate, &output_dense};
  if (p == Precision::int8) {
    torch::globalContext().setQEngine(at::QEngine::ONEDNN);
    for (const auto* lin : all) packed.push_back(pack_int8(*lin));
    // The packed copies serve from now on; the fp32 matrices are released.
    for (const auto* lin : all) (*lin)->weight.set_data(torch::empty({0}));
  } else {
    for (const auto* lin : all) {
      (*lin)->weight.set_data((*lin)->weight.to(torch::kBFloat16));
      (*lin)->bias.set_data((*lin)->bias.to(torch::kBFloat16));
    }
  }
  precision = p;
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& mask_bias, const torch::Tensor& rows) {
  // Linear layer `slot` in this layer's precision. fp32 in, the product's type out (bf16 stays
  // bf16 until a norm or the softmax, which take fp32).
  auto proj = [&](int slot, torch::nn::Linear& lin, const torch::Tensor& in) -> torch::Tensor {
    switch (precision) {
      case Precision::bf16:
        return torch::linear(in.to(torch::kBFloat16), lin->weight, lin->bias);
      case Precision::int8:
        return linear_int8(in, packed.at(static_cast<size_t>(slot)));
      case Precision::fp32:
        break;
    }
    return lin->forward(in);
  };
  const int64_t B = x.size(0), T = x.size(1), H = x.size(2);
  // The query side: every position, or one row per sequence.
  const torch::Tensor xq = rows.defined() ? mention_vectors(x, rows).unsqueeze(1) : x;
  const int64_t Tq = xq.size(1);
  auto split = [&](const torch::Tensor& t, int64_t n) { return t.reshape({B, n, heads, head_dim}).transpose(1, 2); };
  auto q = split(proj(0, query, xq), Tq), k = split(proj(1, key, x), T), v = split(proj(2, value, x), T);
  auto scores = torch::matmul(q, k.transpose(-1, -2)).to(torch::kFloat32) / std::sqrt(static_cast<double>(head_dim)) +
                mask_bias;
  auto probs = torch::softmax(scores, -1).to(v.scalar_type());
  auto ctx = torch::matmul(probs, v).transpose(1, 2).reshape({B, Tq, H});
  auto h = attention_norm->forward(drop(proj(3, attention_dense, ctx).to(torch::kFloat32)) + xq);
  auto i = torch::gelu(proj(4, intermediate, h));  // exact (erf) GELU, as BERT
  return output_norm->forward(drop(proj(5, output_dense, i).to(torch::kFloat32)) + h);
}

BertEncoderImpl::BertEncoderImpl(const BertConfig& c) : config(c) {
  if (c.hidden_act != "gelu")
    throw FormatError("config: hidden_act \"" + c.hidden_act + "\" is not supported (only \"gelu\", BERT's)");
  embeddings = register_module("embeddings", BertEmbeddings(c));
  layers = node(*this, "encoder")->register_module("layer", torch::nn::ModuleList());
  for (int i = 0; i < c.num_hidden_layers; ++i) layers->push_back(BertLayer(c));
  pooler = node(*this, "pooler")->register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

namespace {
// Additive mask: 0 where attended, the most negative float elsewhere (as Hugging Face).
torch::Tensor additive_mask(const torch::Tensor& attention_mask, torch::ScalarType type) {
  return (1.0 - attention_mask.to(type).unsqueeze(1).unsqueeze(2)) * std::numeric_limits<float>::lowest();
}
}  // namespace

torch::Tensor BertEncoderImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) {
  auto x = embeddings->forward(input_ids);
  auto mask_bias = additive_mask(attention_mask, x.scalar_type());
  for (const auto& layer : *layers) x = layer->as<BertLayer>()->forward(x, mask_bias);
  return x;
}

std::vector<torch::Tensor> BertEncoderImpl::forward_layers(const torch::Tensor& input_ids,
                                                           const torch::Tensor& attention_mask) {
  std::vector<torch::Tensor> out{embeddings->forward(input_ids)};
  auto mask_bias = additive_mask(attention_mask, out[0].scalar_type());
  for (const auto& layer : *layers) out.push_back(layer->as<BertLayer>()->forward(out.back(), mask_bias));
  return out;
}

torch::Tensor BertEncoderImpl::forward_at(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                          const torch::Tensor& rows) {
  auto x = embeddings->forward(input_ids);
  auto mask_bias = additive_mask(attention_mask, x.scalar_type());
  const size_t n = layers->size();
  if (n == 0) return mention_vectors(x, rows);
  for (size_t i = 0; i + 1 < n; ++i) x = layers->at<BertLayerImpl>(i).forward(x, mask_bias);
  return layers->at<BertLayerImpl>(n - 1).forward(x, mask_bias, rows).squeeze(1);
}

torch::Tensor BertLayerImpl::drop(const torch::Tensor& x) {
  if (!generator || !is_training()) return dropout->forward(x);
  const double p = dropout->options.p();
  return x * torch::empty_like(x).bernoulli_(1 - p, *generator).div_(1 - p);
}

void BertEncoderImpl::set_dropout_generator(c10::optional<at::Generator> gen) {
  for (const auto& layer : *layers) layer->as<BertLayer>()->generator = gen;
}

void BertEncoderImpl::set_precision(Precision p) {
  if (is_training()) throw InvalidArgument("set_precision is for inference: the encoder is in training mode");
  for (const auto& layer : *layers) layer->as<BertLayer>()->set_precision(p);
}

void BertEncoderImpl::resize_token_embeddings(int64_t n, at::Generator gen) {
  torch::NoGradGuard no_grad;
  auto old = embeddings->word_embeddings->weight;
  if (old.size(0) == n) return;
  auto fresh = torch::empty({n, old.size(1)}, old.options());
  fresh.normal_(0, config.initializer_range, gen);
  int64_t keep = std::min(n, old.size(0));
  fresh.narrow(0, 0, keep).copy_(old.narrow(0, 0, keep));
  embeddings->word_embeddings->weight.set_data(fresh);
  config.vocab_size = static_cast<int>(n);
}

void BertEncoderImpl::load(const StateDict& weights, const std::string& prefix, bool strict,
                           std::vector<std::string>& warnings, const std::string& source) {
  torch::NoGradGuard no_grad;
  std::vector<std::string> problems;
  // Hugging Face keys under the prefix; TF-era LayerNorm names mapped to the current ones.
  StateDict mine;
  for (const auto& [k, v] : weights) {
    if (k.rfind(prefix, 0) != 0) continue;
    std::string name = k.substr(prefix.size());
    if (name.size() > 6 && name.compare(name.size() - 6, 6, ".gamma") == 0) name = name.substr(0, name.size() - 6) + ".weight";
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".beta") == 0) name = name.substr(0, name.size() - 5) + ".bias";
    mine[name] = v;
  }
  if (mine.empty())
    throw FormatError(source + ": no tensor named '" + prefix + "*' (is this a BERT checkpoint of the expected kind?)");
  // The release resized the vocabulary for [E] and [\E]: a smaller pre-trained matrix grows.
  auto we = mine.find("embeddings.word_embeddings.weight");
  if (we != mine.end() && we->second.dim() == 2 && we->second.size(0) != config.vocab_size) {
    resize_token_embeddings(we->second.size(0), at::detail::createCPUGenerator(0));  // overwritten below
  }
  auto params = named_parameters(true);
  for (auto& p : params) {
    auto it = mine.find(p.key());
    if (it == mine.end()) {
      problems.push_back("missing tensor '" + prefix + p.key() + "' (expected shape " + shape_str(p.value()) + ")");
      continue;
    }
    if (it->second.sizes() != p.value().sizes()) {
      problems.push_back("tensor '" + prefix + p.key() + "' has shape " + shape_str(it->second) + ", the model expects " +
                         shape_str(p.value()));
      mine.erase(it);
      continue;
    }
    p.value().copy_(it->second.to(p.value().dtype()));
    mine.erase(it);
  }
  for (const auto& [k, v] : mine) {
    if (k == "embeddings.position_ids") continue;  // a buffer some versions save; recomputed here
    problems.push_back("unexpected tensor '" + prefix + k + "' " + shape_str(v));
  }
  if (problems.empty()) return;
  std::string msg;
  for (const auto& p : problems) msg += "\n  " + p;
  if (strict)
    throw FormatError(source + ": the weights do not fit a BERT of this configuration (" +
                      std::to_string(problems.size()) + " problem(s); --strict=false loads anyway):" + msg);
  for (const auto& p : problems) warnings.push_back(source + ": " + p);
}

torch::Tensor mention_vectors(const torch::Tensor& hidden, const torch::Tensor& positions) {
  auto idx = positions.to(hidden.device(), torch::kLong).view({-1, 1, 1}).expand({hidden.size(0), 1, hidden.size(2)});
  return hidden.gather(1, idx).squeeze(1);
}

torch::Tensor entity_vectors(const torch::Tensor& hidden) { return hidden.select(1, 0); }

torch::Tensor normalised_scores(const torch::Tensor& mv, const torch::Tensor& ev) {
  auto s = torch::nn::functional::cosine_similarity(mv.unsqueeze(1).expand_as(ev), ev,
                                                    torch::nn::functional::CosineSimilarityFuncOptions().dim(-1).eps(1e-6));
  auto mn = std::get<0>(s.min(1, true)), mx = std::get<0>(s.max(1, true));
  return (s - mn) / (mx - mn);
}

}  // namespace ner4el
