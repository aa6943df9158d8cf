// BERT in libtorch with Hugging Face parameter names, and weight files as state dicts.
// Including this header pulls in <torch/torch.h>: use it only where tensors are needed.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "ner4el/bert_config.h"

namespace ner4el {

/// name -> tensor, as torch's state_dict().
using StateDict = std::map<std::string, torch::Tensor>;

/// Reads a weights file: a torch.save zip (pytorch_model.bin, .pt, .ckpt: the tensors found under
/// "state_dict" when the top level holds one, else the top level) or a .safetensors file.
/// Objects the pickle names (Lightning hyper-parameters, optimiser state) are skipped, never run.
/// fp16/bf16 are converted to fp32 unless keep_half_precision.
/// @throws NotFound, FormatError naming the file and the offending entry.
StateDict read_state_dict(const std::string& path, bool keep_half_precision = false);

/// Writes tensors as safetensors (8-byte header size, JSON header, little-endian data; the data
/// starts 64-byte aligned). Written to path + ".tmp" and renamed.
void write_safetensors(const std::string& path, const StateDict& tensors, const std::map<std::string, std::string>& metadata = {});

struct BertEmbeddingsImpl : torch::nn::Module {
  explicit BertEmbeddingsImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& input_ids);
  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
};
TORCH_MODULE(BertEmbeddings);

/// Arithmetic of the linear layers at inference (see LoadOptions::dtype). Layer norms, softmax and
/// residual sums stay fp32 in every mode.
enum class Precision { fp32, bf16, int8 };

struct BertLayerImpl : torch::nn::Module {
  explicit BertLayerImpl(const BertConfig& c);
  /// x [B, T, H]; mask_bias [B, 1, 1, T] (0 or the most negative float). rows [B] int64, when
  /// defined: the output is computed at x[b, rows[b]] only ([B, 1, H]; keys and values still use
  /// every position), which is all a last layer read at one position needs.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask_bias, const torch::Tensor& rows = {});
  /// Converts the linear layers for inference in p (bf16: weights cast; int8: weights quantised per
  /// output channel and packed for oneDNN). One way: the fp32 weights are not kept.
  void set_precision(Precision p);
  int heads, head_dim;
  Precision precision = Precision::fp32;
  std::vector<c10::IValue> packed;  ///< int8: packed q, k, v, attention_dense, intermediate, output_dense
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr}, attention_dense{nullptr};
  torch::nn::LayerNorm attention_norm{nullptr};
  torch::nn::Linear intermediate{nullptr}, output_dense{nullptr};
  torch::nn::LayerNorm output_norm{nullptr};
  torch::nn::Dropout dropout{nullptr};
  /// When set, training-mode dropout draws from this generator instead of libtorch's global one
  /// (the same draws as the global generator in the same state: empty_like(x).bernoulli_(1 - p)).
  c10::optional<at::Generator> generator;
  torch::Tensor drop(const torch::Tensor& x);
};
TORCH_MODULE(BertLayer);

/// BertModel: embeddings, N layers, pooler (kept so checkpoints load strictly; unused here).
/// Parameter names equal Hugging Face keys ("encoder.layer.0.attention.self.query.weight").
struct BertEncoderImpl : torch::nn::Module {
  explicit BertEncoderImpl(const BertConfig& c);
  /// input_ids [B, T] int64, attention_mask [B, T] (nonzero = attend) -> last hidden state [B, T, H].
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask);
  /// Every hidden state: the embeddings' output, then each layer's ([B, T, H] each; L + 1 in all).
  std::vector<torch::Tensor> forward_layers(const torch::Tensor& input_ids, const torch::Tensor& attention_mask);
  /// The last hidden state at one position per row, rows [B] int64 -> [B, H]; the last layer is
  /// computed at those positions only.
  torch::Tensor forward_at(const torch::Tensor& input_ids, const torch::Tensor& attention_mask, const torch::Tensor& rows);
  /// Inference precision of every layer (BertLayerImpl::set_precision); the module must be in eval
  /// mode and is no longer trainable.
  void set_precision(Precision p);
  /// Copies weights by name. Keys may carry a prefix to strip (e.g. "bert."); TF-era names
  /// (LayerNorm.gamma/beta) are accepted. A smaller word-embedding matrix is resized (new rows
  /// ~ N(0, initializer_range), as Hugging Face's resize_token_embeddings). Problems are errors when
  /// strict, else appended to warnings.
  void load(const StateDict& weights, const std::string& prefix, bool strict, std::vector<std::string>& warnings,
            const std::string& source);
  /// Resizes the word-embedding matrix to n rows, keeping the existing ones; new rows ~ N(0,
  /// initializer_range) drawn from gen (a local generator: the global one is left alone).
  void resize_token_embeddings(int64_t n, at::Generator gen);
  /// Dropout of every layer draws from gen (BertLayerImpl::generator); nullopt: the global one.
  void set_dropout_generator(c10::optional<at::Generator> gen);

  BertConfig config;
  BertEmbeddings embeddings{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::Linear pooler{nullptr};
};
TORCH_MODULE(BertEncoder);

/// Whether this libtorch and CPU can run p (bf16: a CPU with AVX-512 BF16 or AMX; int8: oneDNN's
/// quantised engine). fp32 always.
bool precision_supported(Precision p);

/// Mention vectors: hidden[b, positions[b]] -> [B, H].
torch::Tensor mention_vectors(const torch::Tensor& hidden, const torch::Tensor& positions);
/// Entity vectors: hidden[:, 0] -> [B, H].
torch::Tensor entity_vectors(const torch::Tensor& hidden);
/// Bi-encoder scores of one mention batch: mv [M, H], ev [M, K, H] -> cosine [M, K] (eps 1e-6),
/// min-max normalised per row (docs/reference.md "Model").
torch::Tensor normalised_scores(const torch::Tensor& mv, const torch::Tensor& ev);

}  // namespace ner4el
