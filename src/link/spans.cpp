// Spans of texts as mentions for a linker.
#include "ner4el/linker.h"

namespace ner4el {

Mention mention_in(std::string_view text, const TextSpan& s) {
  return Mention{s.mention, std::string(text.substr(0, s.byte_start)), std::string(text.substr(s.byte_end)), std::nullopt};
}

std::vector<std::vector<LinkedSpan>> link_text_spans(const Linker& linker, const std::vector<std::string>& texts,
                                                   std::vector<std::vector<TextSpan>> spans,
                                                     const LinkCallOptions& call) {
  std::vector<std::vector<LinkedSpan>> out(texts.size());
  std::vector<Mention> mentions;
  for (size_t d = 0; d < texts.size(); ++d)
    for (auto& s : spans[d]) {
      mentions.push_back(mention_in(texts[d], s));
      out[d].push_back({std::move(s), {}});
    }
  auto results = linker.link(mentions, call);
  size_t at = 0;
  for (auto& doc : out)
    for (auto& ls : doc) ls.result = std::move(results[at++]);
  return out;
}

}  // namespace ner4el
