// Wikitext to plain text (the Wikipedia importer): any bytes, as an article's text and as a title.
#include "ner4el/error.h"
#include "wiki/wikitext.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ner4el;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const wiki::SiteInfo site = wiki::SiteInfo::english();
  const wiki::PlainText t = wiki::to_plain_text(text, site);
  for (const auto& l : t.links)
    if (l.begin >= l.end || l.end > t.text.size()) __builtin_trap();  // a link span outside the text
  (void)wiki::first_paragraph(t);
  (void)wiki::normalise_title(text.substr(0, 300), site);
  return 0;
}
