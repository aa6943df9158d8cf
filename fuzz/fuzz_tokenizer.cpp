// BERT WordPiece tokenisation of arbitrary bytes (any text a user or a client sends).
#include "ner4el/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ner4el;
  static const WordPieceTokenizer tok = WordPieceTokenizer::from_vocab(
      {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "paris", "##is", "a", "##b", "é", "##é", "中", ",", "."});
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ids = tok.encode(text);
  for (int id : ids)
    if (id < 0 || id >= tok.size()) __builtin_trap();
  return 0;
}
