// Spans of texts as mentions for a linker.
#include "ner4el/linker.h"

namespace ner4el {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/// Where to cut text near `at` so that no word is split: the nearest whitespace within the last
/// quarter of the bound before `at` (going back), else `at` moved back to a character boundary.
size_t cut_before(std::string_view text, size_t at) {
  for (size_t i = at; i > at - kMentionContextBytes / 4; --i)
    if (is_space(text[i - 1])) return i;
  while (at > 0 && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) --at;
  return at;
}

/// The same from the other end: where a suffix of text starting near `at` should begin.
size_t cut_after(std::string_view text, size_t at) {
  for (size_t i = at; i < at + kMentionContextBytes / 4 && i < text.size(); ++i)
    if (is_space(text[i])) return i + 1;
  while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
  return at;
}

std::string head(std::string_view text) {
  if (text.size() <= kMentionContextBytes) return std::string(text);
  return std::string(text.substr(0, cut_before(text, kMentionContextBytes)));
}

std::string head_and_tail(std::string_view text) {
  if (text.size() <= 2 * kMentionContextBytes + 1) return std::string(text);
  std::string out(text.substr(0, cut_before(text, kMentionContextBytes)));
  out += ' ';
  out += text.substr(cut_after(text, text.size() - kMentionContextBytes));
  return out;
}

}  // namespace

Mention mention_in(std::string_view text, const TextSpan& s) {
  return Mention{s.mention, head_and_tail(text.substr(0, s.byte_start)), head(text.substr(s.byte_end)), std::nullopt, std::nullopt, s.type};
}

std::vector<std::vector<LinkedSpan>> link_text_spans(const Linker& linker, const std::vector<std::string>& texts,
                                                     std::vector<std::vector<TextSpan>> spans, const LinkCallOptions& call) {
  constexpr size_t kChunk = 1024;
  std::vector<std::vector<LinkedSpan>> out(texts.size());
  std::vector<Mention> mentions;
  std::vector<LinkedSpan*> waiting;  // the spans of `mentions`, in order
  auto flush = [&] {
    auto results = linker.link(mentions, call);
    for (size_t i = 0; i < results.size(); ++i) waiting[i]->result = std::move(results[i]);
    mentions.clear();
    waiting.clear();
  };
  for (size_t d = 0; d < texts.size(); ++d) out[d].reserve(spans[d].size());  // (pointers into them stay valid)
  for (size_t d = 0; d < texts.size(); ++d)
    for (auto& s : spans[d]) {
      mentions.push_back(mention_in(texts[d], s));
      out[d].push_back({std::move(s), {}});
      waiting.push_back(&out[d].back());
      if (mentions.size() == kChunk) flush();
    }
  if (!mentions.empty()) flush();
  return out;
}

}  // namespace ner4el
