#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "ner4el/pipeline.h"

namespace ner4el {

namespace {
double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
/// The last n characters (code points) of s, as bytes.
std::string_view tail(std::string_view s, size_t n) {
  size_t i = s.size();
  for (size_t k = 0; i > 0 && k < n;) {
    --i;
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++k;
  }
  return s.substr(i);
}
std::string_view head(std::string_view s, size_t n) {
  size_t i = 0, k = 0;
  while (i < s.size()) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && k++ == n) break;
    ++i;
  }
  return s.substr(0, i);
}
/// The data sets' contexts are stripped of the spaces around the mention: a record's text is
/// "left mention right", one space on each side that has a context.
std::string joined(std::string_view left, std::string_view mention, std::string_view right) {
  std::string s(left);
  if (!left.empty()) s += ' ';
  s += mention;
  if (!right.empty()) s += ' ';
  s += right;
  return s;
}
struct Gold {
  size_t byte_start, byte_end;
  std::optional<int64_t> entity;
};

/// Detects and links the mentions of each text and counts them against its gold spans.
EndToEndReport score_end_to_end(const Pipeline& pipeline, const std::vector<std::string>& texts,
                                const std::vector<std::vector<Gold>>& gold) {
  EndToEndReport rep;
  rep.documents = texts.size();
  std::vector<std::vector<TextSpan>> detected(texts.size());
  auto t = std::chrono::steady_clock::now();
  for (size_t d = 0; d < texts.size(); d += 16) {  // (the tagger batches texts' windows)
    const std::vector<std::string> batch(texts.begin() + static_cast<std::ptrdiff_t>(d),
                                         texts.begin() + static_cast<std::ptrdiff_t>(std::min(texts.size(), d + 16)));
    auto spans = pipeline.detect(batch, CallOptions{});
    for (size_t i = 0; i < batch.size(); ++i) {
      detected[d + i] = std::move(spans[i]);
      rep.characters += code_points(batch[i]);
    }
  }
  rep.detect_seconds = since(t);
  t = std::chrono::steady_clock::now();
  auto linked = link_text_spans(pipeline.linker(), texts, std::move(detected));  // one batch
  rep.link_seconds = since(t);
  for (size_t d = 0; d < texts.size(); ++d) {
    rep.gold += gold[d].size();
    for (const auto& g : gold[d]) rep.gold_in_kb += g.entity.has_value();
    for (const auto& ls : linked[d]) {
      ++rep.detected;
      const Gold* match = nullptr;
      for (const auto& g : gold[d])
        if (g.byte_start == ls.span.byte_start && g.byte_end == ls.span.byte_end) match = &g;
      if (match) ++rep.detected_right;
      if (match && !match->entity) continue;  // a gold mention of an entity outside the KB
      if (ls.result.ranked.empty()) continue;
      ++rep.linked;
      if (match && ls.result.ranked.front().id == *match->entity) ++rep.linked_right;
    }
  }
  return rep;
}
}  // namespace

EndToEndReport evaluate_end_to_end(const Pipeline& pipeline, const std::vector<Mention>& records_in, bool title_last_wins) {
  constexpr size_t kContext = 40, kReach = 50;
  // The texts are made valid UTF-8 first, as the pipeline reads them.
  std::vector<Mention> records;
  for (const auto& r : records_in)
    records.push_back({valid_utf8(r.mention), valid_utf8(r.left_context), valid_utf8(r.right_context), r.output, r.candidates, r.ner});
  std::map<std::string, size_t> doc_of;  // text -> document
  std::vector<std::string> texts;
  std::vector<std::vector<Gold>> gold;
  std::vector<std::optional<int64_t>> entity(records.size());
  for (size_t i = 0; i < records.size(); ++i)
    if (records[i].output) entity[i] = pipeline.kb().id_of_title(*records[i].output, title_last_wins);
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    std::string text = joined(r.left_context, r.mention, r.right_context);
    if (doc_of.count(text)) continue;
    doc_of[text] = texts.size();
    std::vector<Gold> g;
    const size_t lo = i > kReach ? i - kReach : 0, hi = std::min(records.size(), i + kReach + 1);
    for (size_t j = lo; j < hi; ++j) {
      const auto& o = records[j];
      if (o.mention.empty()) continue;
      const size_t lead = r.left_context.empty() ? 0 : r.left_context.size() + 1;
      if (j == i) {
        g.push_back({lead, lead + r.mention.size(), entity[i]});
        continue;
      }
      const auto left = tail(o.left_context, kContext), right = head(o.right_context, kContext);
      const std::string anchor = joined(left, o.mention, right);
      const size_t at = text.find(anchor);
      if (at == std::string::npos) continue;
      const size_t off = left.empty() ? 0 : left.size() + 1;
      g.push_back({at + off, at + off + o.mention.size(), entity[j]});
    }
    std::sort(g.begin(), g.end(), [](const Gold& a, const Gold& b) { return a.byte_start < b.byte_start; });
    g.erase(std::unique(g.begin(), g.end(), [](const Gold& a, const Gold& b) {
              return a.byte_start == b.byte_start && a.byte_end == b.byte_end;
            }), g.end());
    texts.push_back(std::move(text));
    gold.push_back(std::move(g));
  }
  return score_end_to_end(pipeline, texts, gold);
}

EndToEndReport evaluate_documents_end_to_end(const Pipeline& pipeline, const std::vector<Document>& docs,
                                            bool title_last_wins) {
  std::vector<std::string> texts;
  std::vector<std::vector<Gold>> gold;
  for (const auto& d : docs) {
    texts.push_back(d.text);
    std::vector<Gold> g;
    for (const auto& s : d.spans) {
      std::optional<int64_t> entity;
      if (s.title) entity = pipeline.kb().id_of_title(*s.title, title_last_wins);
      g.push_back({s.byte_start, s.byte_end, entity});
    }
    gold.push_back(std::move(g));
  }
  return score_end_to_end(pipeline, texts, gold);
}

}  // namespace ner4el
