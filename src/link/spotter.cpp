#include "ner4el/spotter.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "ner4el/error.h"
#include "base/unicode.h"

namespace ner4el {

// ---------------------------------------------------------------------------------------------
// Spotter

namespace {

struct Token {
  size_t b0, b1;           // bytes
  size_t c0, c1;           // code points
  bool word = false;       // letters/digits (else one punctuation mark)
  bool capital = false;    // a word whose first character is upper- or title-case
  bool stop = false;       // a stop word (any case)
  bool space_before = false;
  bool sentence_start = false;
};

bool is_stop_word(std::string_view w) {
  // Function words that neither begin nor end a name ("of" inside "Helen of Sparta" is fine), and
  // the pronoun "I", which WordNet lists as a letter and an element.
  static constexpr std::array<std::string_view, 48> kStop = {
      "a",    "an",   "and",  "are", "as",   "at",    "be",   "but",  "by",   "for",  "from", "had",
      "has",  "have", "he",   "her", "his",  "i",     "in",   "is",   "it",   "its",  "of",   "on",
      "or",   "she",  "that", "the", "their", "them", "then", "there", "these", "they", "this", "to",
      "was",  "we",   "were", "what", "when", "which", "who",  "will", "with", "you",  "not",  "after"};
  if (w.size() > 6) return false;
  std::string lower;
  for (char c : w) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
    lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  }
  return std::find(kStop.begin(), kStop.end(), lower) != kStop.end();
}

std::vector<Token> tokenize_for_spotting(std::string_view text) {
  std::vector<Token> out;
  const auto* base = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  size_t b = 0, c = 0;
  bool space = true, sentence = true;
  Token* word = nullptr;
  while (b < text.size()) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t n = utf8proc_iterate(base + b, static_cast<utf8proc_ssize_t>(text.size() - b), &cp);
    if (n <= 0) {  // the pipeline passes valid UTF-8; be safe anyway
      cp = 0xFFFD;
      n = 1;
    }
    const auto cat = utf8proc_category(cp);
    const bool ws = text::is_whitespace(static_cast<char32_t>(cp));
    const bool letter = (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
                        (cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME) ||
                        (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
    // An apostrophe or hyphen between letters stays inside the word (O'Brien, Coca-Cola).
    // A possessive 's is not part of the name (Einstein's).
    const size_t next = b + static_cast<size_t>(n);
    auto alnum_at = [&](size_t i) { return i < text.size() && std::isalnum(static_cast<unsigned char>(text[i])); };
    const bool possessive = cp != '-' && next < text.size() && (text[next] == 's' || text[next] == 'S') && !alnum_at(next + 1);
    const bool joiner = (cp == '\'' || cp == '-' || cp == 0x2019) && word && alnum_at(next) && !possessive;
    if (ws) {
      word = nullptr;
      space = true;
      if (cp == '\n') sentence = true;
    } else if (letter || joiner) {
      if (!word) {
        Token t{b, b, c, c};
        t.word = true;
        t.capital = cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT;
        t.space_before = space;
        t.sentence_start = sentence;
        out.push_back(t);
        word = &out.back();
        sentence = false;
      }
      word->b1 = b + static_cast<size_t>(n);
      word->c1 = c + 1;
      space = false;
    } else {
      Token t{b, b + static_cast<size_t>(n), c, c + 1};
      t.space_before = space;
      out.push_back(t);
      word = nullptr;
      space = false;
      if (cp == '.' || cp == '!' || cp == '?') sentence = true;
    }
    b += static_cast<size_t>(n);
    ++c;
  }
  // A capitalised function word inside a sentence is part of a name ("The Who", "Who" in it); at the
  // start of a sentence it is capitalised by position. "I" is always a pronoun.
  for (auto& t : out) {
    if (!t.word) continue;
    const auto w = text.substr(t.b0, t.b1 - t.b0);
    t.stop = is_stop_word(w) && (!t.capital || t.sentence_start || w == "I");
  }
  return out;
}

}  // namespace

Spotter::Spotter(const KnowledgeBase& kb, SpotterOptions options) : kb_(kb), options_(options) {
  if (options_.max_tokens < 1) throw InvalidArgument("spotter: max_tokens must be at least 1");
}

std::vector<TextSpan> Spotter::spot(std::string_view text) const {
  const auto toks = tokenize_for_spotting(text);
  std::vector<TextSpan> out;
  std::string key;
  size_t i = 0;
  while (i < toks.size()) {
    const Token& first = toks[i];
    if (!first.word || first.stop || (options_.require_capital && !first.capital)) {
      ++i;
      continue;
    }
    bool found = false;
    const size_t last = std::min(toks.size(), i + static_cast<size_t>(options_.max_tokens)) - 1;
    for (size_t j = last + 1; j-- > i;) {
      const Token& end = toks[j];
      // A span ends on a word that is not a stop word, or on an abbreviation's period ("U.S.").
      const bool abbreviation_dot = !end.word && text[end.b0] == '.' && !end.space_before && j > i && toks[j - 1].word;
      if (!(end.word && !end.stop) && !abbreviation_dot) continue;
      key.clear();
      for (size_t t = i; t <= j; ++t) {
        if (t > i && toks[t].space_before) key.push_back(' ');
        key.append(text.substr(toks[t].b0, toks[t].b1 - toks[t].b0));
      }
      auto ids = kb_.alias(key);
      if (!ids || ids->empty()) continue;
      size_t words = 0, capital = 0;
      for (size_t t = i; t <= j; ++t)
        if (toks[t].word && !toks[t].stop) {
          ++words;
          capital += toks[t].capital;
        }
      double score = 1.0;  // without the capital rule (lower-cased text), every alias found counts
      if (options_.require_capital) {
        score = words ? static_cast<double>(capital) / static_cast<double>(words) : 0.0;
        if (words == 1 && first.sentence_start) score *= 0.5;
      }
      if (score < options_.threshold) continue;
      TextSpan s;
      s.byte_start = first.b0;
      s.byte_end = end.b1;
      s.start = first.c0;
      s.end = end.c1;
      s.mention = std::string(text.substr(s.byte_start, s.byte_end - s.byte_start));
      s.detection_score = score;
      out.push_back(std::move(s));
      i = j + 1;
      found = true;
      break;
    }
    if (!found) ++i;
  }
  return out;
}

}  // namespace ner4el
