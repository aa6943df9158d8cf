// Opens the KB, the model and the index a linking command names (shared by link and serve).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "ner4el/default_model.h"
#include "ner4el/error.h"
#include "ner4el/index.h"
#include "ner4el/linker.h"
#include "ner4el/pipeline.h"
#include "ner4el/runtime.h"

namespace ner4el::cli {

/// The pipeline a linking command opened, with short-hands for its parts.
struct LinkerSetup {
  std::unique_ptr<Pipeline> pipeline;
  const KnowledgeBase* kb = nullptr;
  const Linker* linker = nullptr;  ///< the pipeline's (its batch queue when it has an encoder)
  const LinkerModel* model = nullptr;  ///< null for the count prior
  std::string kind() const { return pipeline ? pipeline->description() : ""; }
};

inline const char* const kDtypeHelp =
    "arithmetic of the encoder: fp32, bf16 (bfloat16 matrix products, on CPUs with AVX-512 BF16), int8 "
    "(dynamically quantised linear layers), or auto (bf16 where the CPU has it, else fp32)";

inline const char* const kDeviceHelp =
    "where the encoder runs: cpu, cuda or cuda:N (needs a CUDA libtorch build; README, \"GPU builds\")";

/// Resolves --dtype for --device and sets the thread pools for it (resolve_compute).
inline std::string use_dtype(const std::string& flag, const std::string& device = "cpu") {
  return resolve_compute({device, flag, 0}).dtype;
}

/// The prior weights of --prior-weight / --rank-weight, or of the default linker when not given.
struct PriorFlags {
  double prior_weight = -1, rank_weight = -1;  // -1: not given
  std::string style = "auto";                  // how the model's vectors are read (LoadOptions::style)
  std::string dtype = "auto";                  // LoadOptions::dtype
  std::string device = "cpu";                  // LoadOptions::device
};

inline std::shared_ptr<PriorFlags> add_prior_flags(CLI::App* cmd) {
  auto p = std::make_shared<PriorFlags>();
  PriorFlags& f = *p;
  cmd->add_option("--prior-weight", f.prior_weight,
                  "bi-encoder score = cosine + W * log p(e|m) - R * log(1 + rank); W (default: 0 for a trained "
                  "model, the fitted value of conf/default_linker.json for the default pretrained one)");
  cmd->add_option("--rank-weight", f.rank_weight, "R of the score above (same defaults)");
  cmd->add_option("--style", f.style,
                  "how the model's vectors are read: release (mention position and [CLS], inputs with [E]/[\\E]), "
                  "sentence (mean pooling over plain text), auto (sentence for a sentence-transformers folder)")
      ->capture_default_str();
  cmd->add_option("--dtype", f.dtype, kDtypeHelp)->capture_default_str();
  cmd->add_option("--device", f.device, kDeviceHelp)->capture_default_str();
  return p;
}

/// Opens the pipeline (Pipeline::open) for model ("" : the default pretrained linker, or the count
/// prior with a notice when none is installed; "prior": the count prior) and prints its notices to
/// stderr. ner_model: the NER classifier for NER-CD / NER-CG.
inline LinkerSetup make_linker(const std::string& kb_dir, const std::string& model, const std::string& vocab,
                               const std::string& index, LinkOptions options, const std::string& ner_model = "",
                               const PriorFlags& prior = {}, const SpotterOptions& spotter = {},
                               const BatchQueueOptions& batch = {}) {
  PipelineConfig c;
  c.kb = kb_dir;
  c.model = model;
  c.vocab = vocab;
  c.index = index;
  c.ner_model = ner_model;
  c.style = prior.style;
  c.dtype = prior.dtype;
  c.device = prior.device;
  c.prior_weight = prior.prior_weight;
  c.rank_weight = prior.rank_weight;
  c.link = options;
  c.spotter = spotter;
  c.batch = batch;
  LinkerSetup s;
  s.pipeline = std::make_unique<Pipeline>(Pipeline::open(c));
  for (const auto& n : s.pipeline->notices()) std::cerr << (n.rfind("warning: ", 0) == 0 ? "" : "note: ") << n << "\n";
  s.kb = &s.pipeline->kb();
  s.linker = &s.pipeline->linker();
  s.model = s.pipeline->model();
  return s;
}

}  // namespace ner4el::cli
