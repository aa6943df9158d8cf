// The count prior of one mention's candidates (internal; shared by the prior and bi-encoder linkers).
#pragma once

#include <cstdint>
#include <vector>

#include "ner4el/kb.h"

namespace ner4el {

/// p(e|m) = (count + 1) / sum over the candidates of (count + 1); an id missing from the KB counts 0.
std::vector<double> count_prior(const KnowledgeBase& kb, const std::vector<int64_t>& ids);

}  // namespace ner4el
