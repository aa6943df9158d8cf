// Internals of the model facades, shared by model.cpp and the trainers (internal header).
#pragma once

#include <ATen/CPUGeneratorImpl.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ner4el/model.h"
#include "ner4el/torch/bert.h"

namespace ner4el {

/// A whole small text file (a configuration). what names it in errors.
/// @throws NotFound, Error when it cannot be read.
std::string read_text_file(const std::string& path, const char* what);

/// Loading builds modules (whose constructors draw initial weights from libtorch's global generator)
/// before the file's weights replace them: the caller's global generator is put back afterwards,
/// so loading a model never changes what a seeded program draws next.
class KeepGlobalGenerator {
 public:
  KeepGlobalGenerator() {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    state_ = gen.get_state();
  }
  ~KeepGlobalGenerator() {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state_);
  }

 private:
  at::Tensor state_;
};

struct LinkerModel::Impl {
  BertConfig config;
  std::unique_ptr<WordPieceTokenizer> tokenizer;
  std::unique_ptr<InputEncoder> inputs;
  BertEncoder mention{nullptr}, entity{nullptr};  // the same module when shared (the default)
  std::vector<std::string> warnings;
  int window = 128;
  bool ner_r = true;
  bool sentence = false;  ///< mean pooling over plain-text inputs (LoadOptions::style)
  std::string dtype = "fp32";  ///< resolved LoadOptions::dtype
  std::string device_name = "cpu";
  torch::Device device{torch::kCPU};

  std::string fingerprint;
  std::once_flag fingerprint_once;

  void finish(const LoadOptions& opt) {
    tokenizer = std::make_unique<WordPieceTokenizer>(WordPieceTokenizer::from_path(vocab_path));
    // The release resized the embeddings for [E] and [\E] after seeding 2; a pre-trained encoder
    // grows here the same way, from a generator of its own (loading leaves the global one alone).
    auto gen = at::detail::createCPUGenerator(2);
    for (auto* e : {&mention, &entity})
      if ((*e)->config.vocab_size < tokenizer->size()) (*e)->resize_token_embeddings(tokenizer->size(), gen);
    config = mention->config;
    InputOptions io;
    io.window = window;
    io.ner_r = ner_r;
    io.sentence_style = sentence;
    inputs = std::make_unique<InputEncoder>(*tokenizer, io);
    mention->eval();
    entity->eval();
    (void)opt;
  }
  std::string vocab_path;
};

struct NerClassifier::Impl {
  BertEncoder encoder{nullptr};
  torch::nn::Linear linear{nullptr};
  std::vector<std::string> classes;
  std::unique_ptr<WordPieceTokenizer> tokenizer;
  std::unique_ptr<InputEncoder> inputs;
  BertConfig config;
  int window = 128;
  torch::Device device{torch::kCPU};
  torch::nn::Dropout dropout{torch::nn::DropoutOptions(0.5)};  ///< the release's, before the linear layer
  std::mutex train_mode;                                           ///< release_dropout switches modes
};

}  // namespace ner4el
