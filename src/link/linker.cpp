#include "ner4el/linker.h"

#include <string>

#include "ner4el/error.h"

namespace ner4el {

void check_link_options(const LinkOptions& o) {
  if (o.k < 1 || o.k > 10000) throw InvalidArgument("k must be between 1 and 10000, got " + std::to_string(o.k));
  if (o.top < 1 || o.top > 1000) throw InvalidArgument("top must be between 1 and 1000, got " + std::to_string(o.top));
}

LinkOptions Linker::options_for(const LinkCallOptions& call) const {
  LinkOptions o = options();
  if (!call.any()) return o;
  if (call.k) o.k = *call.k;
  if (call.top) o.top = *call.top;
  if (call.ner_cd) {
    if (*call.ner_cd && !supports_ner_cd())
      throw InvalidArgument("ner_cd needs a bi-encoder (the count prior has no NER-CD)");
    o.ner_cd = *call.ner_cd;
  }
  check_link_options(o);
  return o;
}

}  // namespace ner4el
