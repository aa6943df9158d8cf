// A BERT encoder's shape, as Hugging Face's config.json gives it.
#pragma once

#include <string>

namespace ner4el {

/// Hugging Face BERT configuration (config.json). Defaults are bert-base-uncased's.
struct BertConfig {
  int vocab_size = 30522;
  int hidden_size = 768;
  int num_hidden_layers = 12;
  int num_attention_heads = 12;
  int intermediate_size = 3072;
  int max_position_embeddings = 512;
  int type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  double initializer_range = 0.02;  ///< std of rows added when the vocabulary is resized
  std::string hidden_act = "gelu";  ///< only "gelu" (exact erf) is supported

  /// Reads config.json. @throws NotFound, FormatError naming the field.
  static BertConfig from_file(const std::string& path);
  /// @throws FormatError naming source and field.
  static BertConfig from_json_text(const std::string& json, const std::string& source);
  std::string to_json_text() const;
};

}  // namespace ner4el
