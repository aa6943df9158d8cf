// One line of a document file in the shared format (tag --score, train-tagger, evaluate
// --end-to-end), then the words the tagger would cut its text into, with their shapes.
#include <string_view>

#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "ner4el/text.h"
#include "ner4el/words.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ner4el;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  try {
    const Document d = parse_document(line, "input", 1);
    for (const auto& s : d.ner_spans)
      if (s.byte_end > d.text.size() || s.byte_start > s.byte_end) __builtin_trap();
  } catch (const Error&) {
  }
  // Any bytes as text: words lie inside it, in order, and every word has a shape.
  const std::string text = valid_utf8(line);
  size_t previous = 0;
  for (const auto& w : split_words(text)) {
    if (w.byte_start < previous || w.byte_end <= w.byte_start || w.byte_end > text.size() || w.end <= w.start) __builtin_trap();
    previous = w.byte_end;
    if (word_shape(std::string_view(text).substr(w.byte_start, w.byte_end - w.byte_start)) >= kWordShapes) __builtin_trap();
  }
  return 0;
}
