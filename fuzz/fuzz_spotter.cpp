// Mention detection, offsets and the mentions' bounded context over arbitrary text (the server's
// /annotate and REL's API).
#include <filesystem>
#include <fstream>

#include "fuzz_util.h"
#include "ner4el/error.h"
#include "ner4el/kb.h"
#include "ner4el/pipeline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ner4el;
  static const KnowledgeBase* kb = [] {
    const std::string dir = fuzz::scratch_dir();
    std::ofstream(dir + "/e.jsonl")
        << R"({"id": 1, "title": "Paris", "description": "a city", "aliases": ["Paris", "U.S.", "São Paulo", "The Who"]})" "\n"
        << R"({"id": 2, "title": "Helen", "description": "a queen", "aliases": ["Helen of Troy", "Helen", "O'Brien"]})" "\n";
    KbSources src;
    src.entities = dir + "/e.jsonl";
    std::filesystem::remove_all(dir + "/kb");
    build_knowledge_base(src, dir + "/kb");
    return new KnowledgeBase(KnowledgeBase::open(dir + "/kb"));
  }();
  const std::string text = valid_utf8(std::string_view(reinterpret_cast<const char*>(data), size));
  for (bool capital : {true, false}) {
    SpotterOptions o;
    o.require_capital = capital;
    for (const auto& s : Spotter(*kb, o).spot(text)) {
      if (s.byte_end > text.size() || s.start > s.end || s.byte_start > s.byte_end) __builtin_trap();
      std::vector<TextSpan> again{s};
      resolve_offsets(text, again, true);  // code points back to the same bytes
      if (again[0].byte_start != s.byte_start || again[0].byte_end != s.byte_end) __builtin_trap();
      // The context a mention carries: bounded, valid UTF-8 (cuts on character boundaries).
      const Mention m = mention_in(text, s);
      if (m.right_context.size() > kMentionContextBytes || m.left_context.size() > 2 * kMentionContextBytes + 1) __builtin_trap();
      if (valid_utf8(m.left_context) != m.left_context || valid_utf8(m.right_context) != m.right_context) __builtin_trap();
    }
  }
  // Spans a client gives, from the input's first bytes.
  if (size >= 2) {
    std::vector<TextSpan> given{{data[0], static_cast<size_t>(data[0]) + data[1], 0, 0, "", 1.0}};
    try {
      resolve_offsets(text, given, true);
    } catch (const InvalidArgument&) {
    }
  }
  return 0;
}
