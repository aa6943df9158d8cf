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
#include "ner4el/runtime.h"

namespace ner4el::cli {

struct LinkerSetup {
  std::unique_ptr<KnowledgeBase> kb;
  std::unique_ptr<LinkerModel> model;
  std::unique_ptr<EntityIndex> index;
  std::unique_ptr<NerClassifier> ner;
  std::unique_ptr<Linker> linker;
  std::string kind_name = "count prior";
  std::string kind() const { return kind_name; }
};

inline const char* const kDtypeHelp =
    "arithmetic of the encoder: fp32, bf16 (bfloat16 matrix products, on CPUs with AVX-512 BF16), int8 "
    "(dynamically quantised linear layers), or auto (bf16 where the CPU has it, else fp32)";

/// Resolves --dtype and sets the thread pools for it (configure_threads).
inline std::string use_dtype(const std::string& flag) {
  std::string dtype = resolve_dtype(flag);
  configure_threads(0, dtype);
  return dtype;
}

/// The prior weights of --prior-weight / --rank-weight, or of the default linker when not given.
struct PriorFlags {
  double prior_weight = -1, rank_weight = -1;  // -1: not given
  std::string style = "auto";                  // how the model's vectors are read (LoadOptions::style)
  std::string dtype = "auto";                  // LoadOptions::dtype
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
  return p;
}

/// model empty: the default pretrained linker (models/minilm-l6 with the fitted prior weights), or
/// the count prior with a notice when none is installed; "prior": the count-prior linker. index needs
/// a model. Warnings of a lenient load go to stderr. ner_model: the NER classifier for NER-CD / NER-CG
/// (its class order is the KB's, as in the release).
inline LinkerSetup make_linker(const std::string& kb_dir, std::string model, const std::string& vocab,
                               const std::string& index, LinkOptions options, const std::string& ner_model = "",
                               const PriorFlags& prior = {}) {
  LinkerSetup s;
  s.kb = std::make_unique<KnowledgeBase>(KnowledgeBase::open(kb_dir));
  bool pretrained = false;
  if (model.empty()) {
    if (auto dir = default_model_dir()) {
      model = *dir;
      pretrained = true;
      auto d = default_linker_settings();
      options.prior_weight = d.prior_weight;
      options.rank_weight = d.rank_weight;
    } else {
      std::cerr << "note: no pretrained model installed (scripts/install-deps); linking with the count prior\n";
      model = "prior";
    }
  }
  if (prior.prior_weight >= 0) options.prior_weight = prior.prior_weight;
  if (prior.rank_weight >= 0) options.rank_weight = prior.rank_weight;
  if (model == "prior") {
    if (!index.empty()) throw InvalidArgument("--index needs the --model it was built with");
    if (options.ner_cd || options.ner_cg) throw InvalidArgument("--ner-cd and --ner-cg need a trained --model");
    s.linker = std::make_unique<PriorLinker>(*s.kb, options);
    return s;
  }
  LoadOptions lo;
  lo.vocab = vocab;
  lo.style = prior.style;
  lo.dtype = use_dtype(prior.dtype);
  s.model = std::make_unique<LinkerModel>(LinkerModel::load(model, lo));
  for (const auto& w : s.model->warnings()) std::cerr << "warning: " << w << "\n";
  if (!index.empty()) {
    s.index = std::make_unique<EntityIndex>(EntityIndex::open(index));
    s.index->check_model(*s.model, index);
  }
  if (!ner_model.empty()) {
    std::vector<std::string> classes;
    for (const auto& c : s.kb->info().classes) classes.push_back(c.first);
    s.ner = std::make_unique<NerClassifier>(NerClassifier::load(ner_model, classes, lo));
  }
  s.linker = std::make_unique<BiEncoderLinker>(*s.kb, *s.model, options, s.index.get(), s.ner.get());
  s.kind_name = pretrained ? "pretrained encoder + prior" : "bi-encoder";
  if (options.prior_weight != 0 || options.rank_weight != 0) {
    char buf[96];
    std::snprintf(buf, sizeof buf, " (prior %.3g, rank %.3g)", options.prior_weight, options.rank_weight);
    s.kind_name += buf;
  }
  return s;
}

}  // namespace ner4el::cli
