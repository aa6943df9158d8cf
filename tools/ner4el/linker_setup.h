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
  std::unique_ptr<Linker> linker;
  std::string kind() const { return model ? "bi-encoder" : "count prior"; }
};

/// model empty: the count-prior linker. index needs model. Warnings of a lenient load go to stderr.
inline LinkerSetup make_linker(const std::string& kb_dir, const std::string& model, const std::string& vocab,
                               const std::string& index, const LinkOptions& options) {
  LinkerSetup s;
  s.kb = std::make_unique<KnowledgeBase>(KnowledgeBase::open(kb_dir));
  if (model.empty()) {
    if (!index.empty()) throw InvalidArgument("--index needs the --model it was built with");
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
  s.linker = std::make_unique<BiEncoderLinker>(*s.kb, *s.model, options, s.index.get());
  return s;
}

}  // namespace ner4el::cli
