#include "ner4el/tokenizer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ner4el/error.h"
#include "ner4el/json.h"
#include "base/unicode.h"

namespace ner4el {

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw NotFound("cannot open " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> read_vocab_txt(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw NotFound("cannot open vocabulary " + path.string());
  std::vector<std::string> vocab;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    vocab.push_back(line);
  }
  if (vocab.empty()) throw FormatError(path.string() + ": empty vocabulary (expected one token per line)");
  return vocab;
}

// tokenizer.json: {"model": {"type": "WordPiece", "vocab": {tok: id}}, "added_tokens": [...]}
std::vector<std::string> read_tokenizer_json(const fs::path& path,
                                             std::vector<std::pair<std::string, int>>& added) {
  const nlohmann::json j = parse_json(read_file(path), path.string());
  const auto model = j.find("model");
  if (model == j.end() || !model->is_object())
    throw FormatError(location(path.string(), 0, "model") + ": missing (expected a Hugging Face tokenizer.json)");
  std::string type = model->value("type", "");
  if (type != "WordPiece")
    throw FormatError(location(path.string(), 0, "model.type") + ": expected \"WordPiece\", found \"" + type +
                      "\"; only BERT WordPiece tokenizers are supported");
  const auto v = model->find("vocab");
  if (v == model->end() || !v->is_object())
    throw FormatError(location(path.string(), 0, "model.vocab") + ": missing or not an object");
  std::vector<std::string> vocab(v->size());
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it.value().is_number_integer())
      throw FormatError(location(path.string(), 0, "model.vocab." + it.key()) + ": id is not an integer");
    auto id = it.value().get<long long>();
    if (id < 0 || id >= static_cast<long long>(vocab.size()) || !vocab[id].empty())
      throw FormatError(location(path.string(), 0, "model.vocab." + it.key()) + ": id " +
                        std::to_string(id) + " out of range or used twice");
    vocab[id] = it.key();
  }
  if (auto a = j.find("added_tokens"); a != j.end() && a->is_array()) {
    for (const auto& t : *a) {
      if (!t.is_object() || !t.contains("content") || !t.contains("id"))
        throw FormatError(location(path.string(), 0, "added_tokens") + ": entry without content/id");
      added.emplace_back(t["content"].get<std::string>(), t["id"].get<int>());
    }
  }
  return vocab;
}

}  // namespace

WordPieceTokenizer WordPieceTokenizer::from_vocab(std::vector<std::string> vocab, TokenizerOptions options) {
  WordPieceTokenizer t;
  t.options_ = options;
  t.vocab_ = std::move(vocab);
  t.index_vocab();
  for (const char* s : {"[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"})
    if (t.ids_.count(s)) {
      t.specials_.push_back(s);
      t.special_first_byte_[static_cast<unsigned char>(s[0])] = true;
    }
  std::sort(t.specials_.begin(), t.specials_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return t;
}

void WordPieceTokenizer::index_vocab() {
  ids_.clear();
  ids_.reserve(vocab_.size() * 2);
  for (size_t i = 0; i < vocab_.size(); ++i) {
    if (!ids_.emplace(vocab_[i], static_cast<int>(i)).second && !vocab_[i].empty())
      throw InvalidArgument("vocabulary entry " + std::to_string(i) + " (\"" + vocab_[i] +
                            "\") duplicates entry " + std::to_string(ids_[vocab_[i]]));
  }
  auto it = ids_.find("[UNK]");
  if (it == ids_.end()) throw InvalidArgument("vocabulary has no \"[UNK]\" token; is it a BERT vocabulary?");
  unk_id_ = it->second;
}

WordPieceTokenizer WordPieceTokenizer::from_path(const std::string& path_str, TokenizerOptions options) {
  fs::path path(path_str);
  std::vector<std::pair<std::string, int>> added;
  std::vector<std::string> vocab;
  fs::path dir;
  if (fs::is_directory(path)) {
    dir = path;
    if (fs::exists(path / "tokenizer.json"))
      vocab = read_tokenizer_json(path / "tokenizer.json", added);
    else if (fs::exists(path / "vocab.txt"))
      vocab = read_vocab_txt(path / "vocab.txt");
    else
      throw NotFound(path_str + ": no tokenizer.json or vocab.txt in this folder (expected a Hugging Face model folder)");
  } else if (fs::exists(path)) {
    vocab = path.extension() == ".json" ? read_tokenizer_json(path, added) : read_vocab_txt(path);
  } else {
    throw NotFound(path_str + ": no such file or folder (expected a vocab.txt, tokenizer.json or model folder)");
  }
  if (!dir.empty() && fs::exists(dir / "added_tokens.json")) {
    const auto file = (dir / "added_tokens.json").string();
    const nlohmann::json j = parse_json(read_file(file), file);
    if (!j.is_object()) throw FormatError(file + ": expected an object {token: id}");
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!it.value().is_number_integer())
        throw FormatError(location(file, 0, it.key()) + ": id is not an integer");
      added.emplace_back(it.key(), it.value().get<int>());
    }
  }
  // Added tokens may already be inside the vocabulary (tokenizer.json lists them in both places);
  // the rest must follow it densely, the way Hugging Face assigns them.
  std::sort(added.begin(), added.end(), [](auto& a, auto& b) { return a.second < b.second; });
  std::vector<std::string> extra;
  for (auto& [tok, id] : added) {
    if (id < static_cast<int>(vocab.size())) {
      if (vocab[id] != tok)
        throw FormatError(path_str + ": added token \"" + tok + "\" has id " + std::to_string(id) +
                          " which the vocabulary gives to \"" + vocab[id] + "\"");
      extra.push_back(tok);
      continue;
    }
    if (id != static_cast<int>(vocab.size()))
      throw FormatError(path_str + ": added token \"" + tok + "\" has id " + std::to_string(id) +
                        ", expected the next free id " + std::to_string(vocab.size()));
    vocab.push_back(tok);
    extra.push_back(tok);
  }
  WordPieceTokenizer t = from_vocab(std::move(vocab), options);
  for (const auto& tok : extra) t.add_special_token(tok);
  if (options.add_entity_markers) {
    t.add_special_token("[E]");
    t.add_special_token("[\\E]");
  }
  return t;
}

int WordPieceTokenizer::add_special_token(const std::string& token) {
  if (token.empty()) throw InvalidArgument("cannot add an empty special token");
  int id;
  if (auto it = ids_.find(token); it != ids_.end()) {
    id = it->second;
  } else {
    id = static_cast<int>(vocab_.size());
    vocab_.push_back(token);
    ids_.emplace(token, id);
  }
  if (std::find(specials_.begin(), specials_.end(), token) == specials_.end()) {
    specials_.push_back(token);
    special_first_byte_[static_cast<unsigned char>(token[0])] = true;
    std::stable_sort(specials_.begin(), specials_.end(),
                     [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  }
  return id;
}

int WordPieceTokenizer::token_to_id(std::string_view token) const {
  auto it = ids_.find(std::string(token));
  return it == ids_.end() ? -1 : it->second;
}

const std::string& WordPieceTokenizer::id_to_token(int id) const {
  if (id < 0 || id >= size())
    throw InvalidArgument("token id " + std::to_string(id) + " out of range [0, " + std::to_string(size()) + ")");
  return vocab_[id];
}

int WordPieceTokenizer::require_id(std::string_view token) const {
  int id = token_to_id(token);
  if (id < 0)
    throw InvalidArgument("the vocabulary has no \"" + std::string(token) +
                          "\" token (load with add_entity_markers, or add it with add_special_token)");
  return id;
}

std::vector<std::string> WordPieceTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> pieces;
  encode(text, &pieces);
  return pieces;
}

std::vector<int> WordPieceTokenizer::encode(std::string_view text) const { return encode(text, nullptr); }

std::vector<int> WordPieceTokenizer::encode(std::string_view text, std::vector<std::string>* pieces) const {
  std::vector<int> ids;
  // Split on special tokens first: at each position the longest special token that matches wins.
  size_t seg_start = 0, i = 0;
  while (i < text.size()) {
    const std::string* hit = nullptr;
    if (special_first_byte_[static_cast<unsigned char>(text[i])]) {
      for (const auto& s : specials_) {
        if (text.compare(i, s.size(), s) == 0) {
          hit = &s;
          break;  // specials_ is sorted longest first
        }
      }
    }
    if (!hit) {
      ++i;
      continue;
    }
    tokenize_segment(text.substr(seg_start, i - seg_start), ids, pieces);
    ids.push_back(ids_.at(*hit));
    if (pieces) pieces->push_back(*hit);
    i += hit->size();
    seg_start = i;
  }
  tokenize_segment(text.substr(seg_start), ids, pieces);
  return ids;
}

void WordPieceTokenizer::tokenize_segment(std::string_view segment, std::vector<int>& ids,
                                          std::vector<std::string>* pieces) const {
  if (segment.empty()) return;
  std::vector<char32_t> cps = text::decode_utf8(segment);
  // Clean text and isolate CJK ideographs, then split on whitespace.
  std::vector<std::u32string> words;
  std::u32string cur;
  auto flush = [&] {
    if (!cur.empty()) words.push_back(std::move(cur));
    cur.clear();
  };
  for (char32_t cp : cps) {
    if (cp == 0 || cp == 0xFFFD || text::is_control(cp)) continue;
    if (text::is_whitespace(cp)) {
      flush();
    } else if (options_.tokenize_chinese_chars && text::is_cjk(cp)) {
      flush();
      words.emplace_back(1, cp);
    } else {
      cur.push_back(cp);
    }
  }
  flush();
  for (auto& word : words) {
    std::vector<char32_t> w(word.begin(), word.end());
    if (options_.lower_case) w = text::lower(w, /*final_sigma=*/false);  // character by character, as HF
    if (options_.strip_accents) w = text::strip_accents(w);
    // Split on punctuation: each punctuation character is a word of its own.
    std::u32string part;
    for (char32_t cp : w) {
      if (text::is_punctuation(cp)) {
        if (!part.empty()) wordpiece(part, ids, pieces);
        part.clear();
        wordpiece(std::u32string(1, cp), ids, pieces);
      } else {
        part.push_back(cp);
      }
    }
    if (!part.empty()) wordpiece(part, ids, pieces);
  }
}

void WordPieceTokenizer::wordpiece(const std::u32string& word, std::vector<int>& ids,
                                   std::vector<std::string>* pieces) const {
  auto unk = [&] {
    ids.push_back(unk_id_);
    if (pieces) pieces->push_back(vocab_[unk_id_]);
  };
  if (static_cast<int>(word.size()) > options_.max_input_chars_per_word) return unk();
  // Byte offset of each code point boundary, so candidate pieces are plain substrings.
  std::string utf8;
  std::vector<size_t> off;
  off.reserve(word.size() + 1);
  for (char32_t cp : word) {
    off.push_back(utf8.size());
    text::append_utf8(utf8, cp);
  }
  off.push_back(utf8.size());
  const size_t first = ids.size();
  std::string key;
  size_t start = 0, n = word.size();
  while (start < n) {
    size_t end = n;
    int found = -1;
    while (start < end) {
      key.assign(start > 0 ? "##" : "");
      key.append(utf8, off[start], off[end] - off[start]);
      auto it = ids_.find(key);
      if (it != ids_.end()) {
        found = it->second;
        break;
      }
      --end;
    }
    if (found < 0) {  // no piece matches: the whole word is unknown
      const size_t emitted = ids.size() - first;
      ids.resize(first);
      if (pieces) pieces->resize(pieces->size() - emitted);
      return unk();
    }
    ids.push_back(found);
    if (pieces) pieces->push_back(key);
    start = end;
  }
}

}  // namespace ner4el
