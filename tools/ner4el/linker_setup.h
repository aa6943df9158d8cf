// Opens the KB, the model and the index a linking command names (shared by link and serve).
#pragma once

#include <iostream>
#include <memory>
#include <string>

#include "ner4el/error.h"
#include "ner4el/index.h"
#include "ner4el/linker.h"

namespace ner4el::cli {

struct LinkerSetup {
  std::unique_ptr<KnowledgeBase> kb;
  std::unique_ptr<LinkerModel> model;
  std::unique_ptr<EntityIndex> index;
  std::unique_ptr<NerClassifier> ner;
  std::unique_ptr<Linker> linker;
  std::string kind() const { return model ? "bi-encoder" : "count prior"; }
};

/// model empty: the count-prior linker. index needs model. Warnings of a lenient load go to stderr.
/// ner_model: the NER classifier for NER-CD / NER-CG (its class order is the KB's, as in the release).
inline LinkerSetup make_linker(const std::string& kb_dir, const std::string& model, const std::string& vocab,
                               const std::string& index, const LinkOptions& options, const std::string& ner_model = "") {
  LinkerSetup s;
  s.kb = std::make_unique<KnowledgeBase>(KnowledgeBase::open(kb_dir));
  if (model.empty() || model == "prior") {
    if (!index.empty()) throw InvalidArgument("--index needs the --model it was built with");
    if (options.ner_cd || options.ner_cg) throw InvalidArgument("--ner-cd and --ner-cg need a trained --model");
    s.linker = std::make_unique<PriorLinker>(*s.kb, options);
    return s;
  }
  LoadOptions lo;
  lo.vocab = vocab;
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
  return s;
}

}  // namespace ner4el::cli
