// What the trainers need of the models beyond their public facades (internal header): the
// parameters, training mode, differentiable forward passes on the model's device, dropout from a
// generator of the trainee's own (training never touches libtorch's global generator) and mixed
// precision. Streaming, data-parallel and device code in the trainers go through these alone.
#pragma once

#include <ATen/CPUGeneratorImpl.h>

#include <optional>
#include <string>
#include <vector>

#include "ner4el/model.h"
#include "ner4el/torch/bert.h"

namespace ner4el::train {

/// "fp32", or "bf16": forward passes under autocast to bfloat16 (weights, gradients and the
/// optimiser stay fp32; Lightning's "bf16-mixed"). @throws InvalidArgument for another name.
void check_precision(const std::string& precision);

/// Token rows padded to the longest: ids and attention mask [rows, longest] on device.
std::pair<torch::Tensor, torch::Tensor> pad_rows(const std::vector<std::vector<int>>& rows, torch::Device device);

class LinkerTrainee {
 public:
  /// Loads a starting point (any format LinkerModel::load reads) in fp32 on options.device.
  LinkerTrainee(const std::string& path, LoadOptions options, std::string precision = "fp32");

  std::vector<torch::Tensor> parameters() const;
  void set_training(bool on);
  /// Reseeds the trainee's dropout generator (every example's draws derive from its own seed).
  void seed_dropout(uint64_t seed);
  /// The reference's training scores of one mention against its candidates: min-max normalised cosines
  /// [1, candidates], NaN when they are all equal.
  torch::Tensor scores(const std::vector<int>& mention_ids, int mention_position,
                       const std::vector<std::vector<int>>& candidate_rows);
  torch::Device device() const;
  const InputEncoder& inputs() const { return model_.input_encoder(); }
  /// The model being trained (evaluation through BiEncoderLinker, save()).
  LinkerModel& model() { return model_; }

 private:
  LinkerModel model_;
  at::Generator gen_;
  std::string precision_;
};

class NerTrainee {
 public:
  /// A classifier over the encoder of a starting point, its linear layer drawn from seed (a local
  /// generator), classes in the KB's order.
  NerTrainee(const std::string& path, LoadOptions options, std::vector<std::string> classes, int window, uint64_t seed);

  std::vector<torch::Tensor> parameters() const;
  void set_training(bool on);
  void seed_dropout(uint64_t seed);
  /// Logits [rows, classes]: the hidden state at each mention position, dropout 0.5, linear layer.
  torch::Tensor logits(const std::vector<std::vector<int>>& rows, const std::vector<int64_t>& positions);
  torch::Device device() const;
  const InputEncoder& inputs() const { return classifier_.input_encoder(); }
  NerClassifier& classifier() { return classifier_; }

 private:
  static NerClassifier assemble(const std::string& path, LoadOptions options, std::vector<std::string> classes, int window,
                                at::Generator& gen);
  at::Generator gen_;
  NerClassifier classifier_;
};

}  // namespace ner4el::train
