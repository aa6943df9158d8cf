#include "wiki/wikitext.h"

#include <utf8proc.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <unordered_map>

namespace ner4el::wiki {

namespace {

constexpr int kMaxDepth = 64;

bool starts_with_ci(std::string_view s, size_t i, std::string_view p) {
  if (s.size() - i < p.size()) return false;
  for (size_t k = 0; k < p.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(s[i + k])) != p[k]) return false;
  return true;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Tags whose content is not prose: dropped with it.
const char* const kDroppedTags[] = {"ref",      "math",   "gallery", "timeline", "score",       "syntaxhighlight",
                                    "source",   "graph",  "imagemap", "chem",    "ce",          "hiero",
                                    "templatedata", "mapframe", "maplink", "references", "templatestyles", "inputbox",
                                    "categorytree", "poem", "section", "indicator", "includeonly"};

/// The tag name at s[i] == '<' ("ref" for "<ref name=x>", "/ref" for "</ref>"), lower-cased; ""
/// when this is not a tag.
std::string tag_name(std::string_view s, size_t i) {
  size_t j = i + 1;
  if (j < s.size() && s[j] == '/') ++j;
  size_t k = j;
  while (k < s.size() && (std::isalnum(static_cast<unsigned char>(s[k])) || s[k] == '-')) ++k;
  if (k == j || !std::isalpha(static_cast<unsigned char>(s[j]))) return "";
  return lower_ascii(s.substr(i + 1, k - i - 1));
}

bool is_dropped_tag(const std::string& name) {
  return std::any_of(std::begin(kDroppedTags), std::end(kDroppedTags), [&](const char* t) { return name == t; });
}

/// Finds the next occurrence of a character, remembering the last answer: a text of many '<' and
/// no '>' is searched once, not once per '<' (linear, not quadratic).
class NextOf {
 public:
  NextOf(std::string_view s, char c) : s_(s), c_(c) {}
  size_t operator()(size_t from) {
    if (!(asked_ != std::string_view::npos && from >= asked_ && (found_ == std::string_view::npos || from <= found_))) {
      asked_ = from;
      found_ = s_.find(c_, from);
    }
    return found_;
  }

 private:
  std::string_view s_;
  char c_;
  size_t asked_ = std::string_view::npos, found_ = std::string_view::npos;
};

/// Index just past the '>' closing the tag that starts at i, or npos.
size_t tag_end(NextOf& next_gt, size_t i) {
  size_t e = next_gt(i);
  return e == std::string_view::npos ? e : e + 1;
}

/// For every "open" of s that has a matching "close" (nesting counted, comments skipped), where
/// that close ends; one pass over the text, so unbalanced openings cost nothing extra.
std::unordered_map<size_t, size_t> matching_ends(std::string_view s, std::string_view open, std::string_view close) {
  std::unordered_map<size_t, size_t> ends;
  std::vector<size_t> stack;
  for (size_t j = 0; j < s.size();) {
    if (s[j] == '<' && s.compare(j, 4, "<!--") == 0) {
      size_t e = s.find("-->", j + 4);
      j = e == std::string_view::npos ? s.size() : e + 3;
    } else if (s.compare(j, open.size(), open) == 0) {
      stack.push_back(j);
      j += open.size();
    } else if (s.compare(j, close.size(), close) == 0) {
      if (!stack.empty()) {
        ends.emplace(stack.back(), j + close.size());
        stack.pop_back();
      }
      j += close.size();
    } else {
      ++j;
    }
  }
  return ends;
}

/// The prefixes of Wikimedia's sister projects: their links show as text (interlanguage links,
/// [[fr:Paris]], do not).
bool is_interwiki(const std::string& prefix) {
  static const std::unordered_set<std::string> kPrefixes = {
      "wikt", "wiktionary", "w", "wikipedia", "commons", "c", "s", "wikisource", "q", "wikiquote", "b", "wikibooks", "n",
      "wikinews", "v", "wikiversity", "voy", "wikivoyage", "species", "wikispecies", "d", "wikidata", "m", "meta", "metawiki",
      "mw", "mediawikiwiki", "foundation", "wmf", "phab", "outreach", "incubator", "doi", "iarchive", "google"};
  return kPrefixes.count(prefix) > 0;
}

bool at_line_start(std::string_view s, size_t i) {
  while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t')) --i;
  return i == 0 || s[i - 1] == '\n';
}

/// End of the balanced construct open..close starting at i (after its close), or npos.
size_t balanced_end(std::string_view s, size_t i, std::string_view open, std::string_view close, bool line_start_only = false) {
  int depth = 0;
  size_t j = i;
  while (j < s.size()) {
    if (s.compare(j, open.size(), open) == 0 && (!line_start_only || at_line_start(s, j))) {
      if (++depth > kMaxDepth) return std::string_view::npos;
      j += open.size();
    } else if (s.compare(j, close.size(), close) == 0 && (!line_start_only || at_line_start(s, j))) {
      j += close.size();
      if (--depth == 0) return j;
    } else {
      ++j;
    }
  }
  return std::string_view::npos;
}

/// Pass 1: comments, templates, tables and dropped tags removed; links and formatting kept.
std::string strip_blocks(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto template_ends = matching_ends(s, "{{", "}}");
  NextOf next_gt(s, '>');
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '<' && s.compare(i, 4, "<!--") == 0) {
      size_t e = s.find("-->", i + 4);
      i = e == std::string_view::npos ? s.size() : e + 3;
      continue;
    }
    if (c == '{' && i + 1 < s.size() && s[i + 1] == '{') {
      // Templates, parser functions and parameters: {{ }} and {{{ }}} balance as braces.
      auto end = template_ends.find(i);
      if (end == template_ends.end()) {  // unbalanced: the rest of the line goes (MediaWiki would show it raw)
        size_t nl = s.find('\n', i);
        i = nl == std::string_view::npos ? s.size() : nl;
      } else {
        i = end->second;
      }
      continue;
    }
    if (c == '{' && i + 1 < s.size() && s[i + 1] == '|' && at_line_start(s, i)) {
      size_t e = balanced_end(s, i, "{|", "|}", true);
      if (e == std::string_view::npos) e = s.size();
      i = e;
      continue;
    }
    if (c == '<') {
      std::string name = tag_name(s, i);
      if (!name.empty() && name[0] != '/' && is_dropped_tag(name)) {
        size_t te = tag_end(next_gt, i);
        if (te == std::string_view::npos) {
          i = s.size();
          continue;
        }
        if (s[te - 2] == '/') {  // <ref name="x" />
          i = te;
          continue;
        }
        // To the matching close tag (case-insensitive), or the end.
        size_t j = te;
        const std::string close = "</" + name;
        for (;;) {
          size_t k = s.find("</", j);
          if (k == std::string_view::npos) {
            j = s.size();
            break;
          }
          if (starts_with_ci(s, k, close)) {
            size_t ce = tag_end(next_gt, k);
            j = ce == std::string_view::npos ? s.size() : ce;
            break;
          }
          j = k + 2;
        }
        i = j;
        continue;
      }
    }
    out += c;
    ++i;
  }
  return out;
}

struct Entity {
  const char* name;
  const char* utf8;
};
const Entity kEntities[] = {{"nbsp", " "},      {"amp", "&"},        {"lt", "<"},         {"gt", ">"},       {"quot", "\""},
                            {"apos", "'"},      {"ndash", "\u2013"}, {"mdash", "\u2014"}, {"minus", "\u2212"}, {"thinsp", " "},
                            {"ensp", " "},      {"emsp", " "},       {"hellip", "\u2026"}, {"times", "\u00d7"}, {"deg", "\u00b0"},
                            {"middot", "\u00b7"}, {"laquo", "\u00ab"}, {"raquo", "\u00bb"}, {"lsquo", "\u2018"}, {"rsquo", "\u2019"},
                            {"ldquo", "\u201c"}, {"rdquo", "\u201d"}, {"shy", ""},         {"zwj", ""},        {"zwnj", ""}};

void append_code_point(std::string& out, int32_t cp) {
  utf8proc_uint8_t buf[4];
  if (!utf8proc_codepoint_valid(cp)) cp = 0xFFFD;
  auto n = utf8proc_encode_char(cp, buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

/// Decodes the entity at s[i] == '&' into out; returns the index after it, or i when none.
size_t decode_entity(std::string_view s, size_t i, std::string& out) {
  size_t semi = s.substr(i, 12).find(';');  // entities are short: a bounded look, never a scan
  if (semi == std::string_view::npos) return i;
  semi += i;
  std::string_view name = s.substr(i + 1, semi - i - 1);
  if (name.size() >= 2 && name[0] == '#') {
    int32_t cp = 0;
    const bool hex = name[1] == 'x' || name[1] == 'X';
    std::string_view digits = name.substr(hex ? 2 : 1);
    if (digits.empty()) return i;
    for (char d : digits) {
      int v = std::isdigit(static_cast<unsigned char>(d)) ? d - '0'
              : hex && std::isxdigit(static_cast<unsigned char>(d)) ? std::tolower(d) - 'a' + 10 : -1;
      if (v < 0 || cp > 0x10FFFF) return i;
      cp = cp * (hex ? 16 : 10) + v;
    }
    append_code_point(out, cp);
    return semi + 1;
  }
  for (const auto& e : kEntities)
    if (name == e.name) {
      out += e.utf8;
      return semi + 1;
    }
  return i;
}

/// Pass 2 output: white space collapsed as it is written, link spans recorded.
class Writer {
 public:
  void text(std::string_view t) {
    for (char c : t) put(c);
  }
  void put(char c) {
    if (c == '\t' || c == '\r') c = ' ';
    if (c == ' ') {
      if (!out_.empty() && out_.back() != ' ' && out_.back() != '\n' && out_.back() != '(') out_ += ' ';
      return;
    }
    if (c == '\n') {  // a paragraph break; trailing space dropped
      while (!out_.empty() && out_.back() == ' ') out_.pop_back();
      if (!out_.empty() && out_.back() != '\n') out_ += '\n';
      return;
    }
    if (c == ')' && drop_empty_brackets()) return;
    // What removed templates leave: "( ; born 1809" -> "(born 1809", "named , plural" -> "named, plural".
    if ((c == ';' || c == ',') && !out_.empty() && out_.back() == '(') return;
    if ((c == ',' || c == '.' || c == ')') && out_.size() >= 2 && out_.back() == ' ' && out_[out_.size() - 2] != '\n')
      out_.pop_back();
    out_ += c;
  }
  size_t size() const { return out_.size(); }
  std::string& str() { return out_; }
  std::vector<Link> links;

 private:
  /// "( )", "(; )", "(, ,)": brackets whose content was removed go, with the space before them.
  bool drop_empty_brackets() {
    size_t k = out_.size();
    while (k > 0 && (out_[k - 1] == ' ' || out_[k - 1] == ';' || out_[k - 1] == ',')) --k;
    if (k == 0 || out_[k - 1] != '(') return false;
    size_t start = k - 1;
    if (!links.empty() && links.back().end > start) return false;
    while (start > 0 && out_[start - 1] == ' ') --start;
    out_.resize(start);
    return true;
  }
  std::string out_;
};

class Renderer {
 public:
  /// text: the whole (stripped) text; render() takes it or parts of it.
  Renderer(const SiteInfo& site, Writer& w, std::string_view text)
      : site_(site), w_(w), base_(text), link_ends_(matching_ends(text, "[[", "]]")), next_gt_(text, '>') {}

  void render(std::string_view s, int depth) {
    size_t i = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (c == '\n') {
        // A blank line ends a paragraph; a single line break inside one is a space, but the lines
        // of headings, lists and leftovers of tables are their own.
        size_t j = i + 1;
        bool blank = false;
        while (j < s.size() && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n')) blank |= s[j++] == '\n';
        const char next = j < s.size() ? s[j] : '\n';
        if (blank || list_line_ || next == '=' || next == '*' || next == '#' || next == ':' || next == ';' || next == '|' ||
            next == '!')
          w_.put('\n');
        else
          w_.put(' ');
        list_line_ = false;
        i = i + 1;
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        continue;
      }
      if ((c == '=' || c == '|' || c == '!' || c == '*' || c == '#' || c == ':' || c == ';') &&
          (i == 0 || s[i - 1] == '\n' || s[i - 1] == ' ' || s[i - 1] == '\t') && at_line_start(s, i)) {
        if (c == '=') {  // a heading: dropped, it ends the paragraph
          size_t nl = s.find('\n', i);
          i = nl == std::string_view::npos ? s.size() : nl;
          w_.put('\n');
          continue;
        }
        if (c == '|' || c == '!') {  // a table's leftover row
          size_t nl = s.find('\n', i);
          i = nl == std::string_view::npos ? s.size() : nl;
          continue;
        }
        if (c == '*' || c == '#' || c == ':' || c == ';') {  // list and indent markers: the item ends with its line
          while (i < s.size() && (s[i] == '*' || s[i] == '#' || s[i] == ':' || s[i] == ';')) ++i;
          list_line_ = true;
          continue;
        }
      }
      if (c == '[' && i + 1 < s.size() && s[i + 1] == '[') {
        i = internal_link(s, i, depth);
        continue;
      }
      if (c == '[') {
        size_t e = external_link(s, i, depth);
        if (e != i) {
          i = e;
          continue;
        }
      }
      if (c == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {  // '' italic, ''' bold, ''''' both
        while (i < s.size() && s[i] == '\'') ++i;
        continue;
      }
      if (c == '_' && s.compare(i, 2, "__") == 0) {  // __TOC__, __NOTOC__, ...
        size_t e = s.substr(0, std::min(s.size(), i + 34)).find("__", i + 2);
        if (e != std::string_view::npos &&
            std::all_of(s.begin() + i + 2, s.begin() + e, [](char x) { return std::isupper(static_cast<unsigned char>(x)); })) {
          i = e + 2;
          continue;
        }
      }
      if (c == '<') {
        std::string name = tag_name(s, i);
        if (!name.empty()) {
          size_t te = tag_end(next_gt_, absolute(s, i));
          if (te != std::string_view::npos) te -= absolute(s, 0);
          if (te != std::string_view::npos && te <= s.size()) {
            if (name == "br" || name == "/p" || name == "p") w_.put(name == "br" ? ' ' : '\n');
            if (name == "nowiki") {  // its content as written
              size_t close = s.find("</nowiki>", te);
              if (close == std::string_view::npos) close = s.size();
              w_.text(s.substr(te, close - te));
              i = std::min(s.size(), close + 9);
              continue;
            }
            i = te;
            continue;
          }
        }
      }
      if (c == '&') {
        std::string decoded;
        size_t e = decode_entity(s, i, decoded);
        if (e != i) {
          w_.text(decoded);
          i = e;
          continue;
        }
      }
      w_.put(c);
      ++i;
    }
  }

 private:
  /// [[target|label]]trail at s[i]; returns the index after it.
  size_t internal_link(std::string_view s, size_t i, int depth) {
    auto found = link_ends_.find(absolute(s, i));
    const size_t e = found == link_ends_.end() ? std::string_view::npos : found->second - absolute(s, 0);
    if (e == std::string_view::npos || e > s.size() || depth >= kMaxDepth) {  // unbalanced: "[[" as text
      w_.text("[[");
      return i + 2;
    }
    std::string_view inner = s.substr(i + 2, e - i - 4);
    // The first '|' outside nested links splits target and label.
    size_t bar = std::string_view::npos;
    for (size_t k = 0, d = 0; k < inner.size(); ++k) {
      if (inner.compare(k, 2, "[[") == 0) ++d, ++k;
      else if (inner.compare(k, 2, "]]") == 0 && d > 0) --d, ++k;
      else if (inner[k] == '|' && d == 0) {
        bar = k;
        break;
      }
    }
    std::string_view target = inner.substr(0, bar), label = bar == std::string_view::npos ? target : inner.substr(bar + 1);
    while (!target.empty() && (target.front() == ' ')) target.remove_prefix(1);
    const bool colon = !target.empty() && target.front() == ':';
    if (colon) target.remove_prefix(1);
    // Namespaces and interwiki prefixes.
    bool article = true;
    if (size_t p = target.find(':'); p != std::string_view::npos) {
      std::string prefix = lower_ascii(target.substr(0, p));
      std::replace(prefix.begin(), prefix.end(), '_', ' ');
      while (!prefix.empty() && prefix.back() == ' ') prefix.pop_back();
      if (site_.namespaces.count(prefix)) {
        if (!colon && site_.dropped_namespaces.count(prefix)) return e;  // files, images, categories: gone
        article = false;
      } else if (is_interwiki(prefix)) {
        article = false;  // [[wikt:word|word]]: text, not an entity
      } else if (!prefix.empty() && prefix.size() <= 12 &&
                 std::all_of(prefix.begin(), prefix.end(), [](char x) { return (x >= 'a' && x <= 'z') || x == '-'; }) &&
                 target.substr(0, p).find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string_view::npos) {
        if (!colon) return e;  // an interlanguage link ([[fr:Paris]]): not text
        article = false;       // [[:fr:Paris|...]] or [[wikt:word]]: text, not an entity
      }
    }
    std::string shown;
    if (bar != std::string_view::npos && label.empty()) {  // the pipe trick: [[Paris (myth)|]] -> Paris
      shown = std::string(target.substr(0, target.find(" (")));
      if (size_t p = shown.find(':'); p != std::string::npos && !article) shown = shown.substr(p + 1);
    }
    // The link trail: letters right after "]]" belong to the label ([[bus]]es).
    size_t trail = e;
    while (trail < s.size() && std::isalpha(static_cast<unsigned char>(s[trail])) && static_cast<unsigned char>(s[trail]) < 0x80) ++trail;
    const size_t begin = w_.size();
    if (!shown.empty()) w_.text(shown);
    else render(label, depth + 1);
    w_.text(s.substr(e, trail - e));
    size_t b = begin, end = w_.size();
    std::string& out = w_.str();
    while (b < end && (out[b] == ' ' || out[b] == '\n')) ++b;
    while (end > b && (out[end - 1] == ' ' || out[end - 1] == '\n')) --end;
    std::string t(target.substr(0, target.find('#')));
    if (article && end > b && !t.empty() && t.find_first_of("<>[]{}|") == std::string::npos) w_.links.push_back({b, end, t});
    return trail;
  }

  /// [http://x label] at s[i]: the label, or nothing; returns i when this is not one.
  size_t external_link(std::string_view s, size_t i, int depth) {
    if (!(starts_with_ci(s, i + 1, "http://") || starts_with_ci(s, i + 1, "https://") || s.compare(i + 1, 2, "//") == 0 ||
          starts_with_ci(s, i + 1, "ftp://") || starts_with_ci(s, i + 1, "mailto:")))
      return i;
    // On one line and not longer than a long URL with its label: a bounded look, never a scan.
    const std::string_view rest = s.substr(i, 4096);
    size_t close = rest.find(']');
    size_t nl = rest.find('\n');
    if (close == std::string_view::npos || (nl != std::string_view::npos && nl < close)) return i;
    close += i;
    std::string_view inner = s.substr(i + 1, close - i - 1);
    size_t sp = inner.find(' ');
    if (sp != std::string_view::npos) render(inner.substr(sp + 1), depth + 1);
    return close + 1;
  }

  /// Offset in the whole text of s[i] (s is the text or a part of it).
  size_t absolute(std::string_view s, size_t i) const { return static_cast<size_t>(s.data() - base_.data()) + i; }

  const SiteInfo& site_;
  Writer& w_;
  std::string_view base_;
  std::unordered_map<size_t, size_t> link_ends_;
  NextOf next_gt_;
  bool list_line_ = false;  ///< the current line is a list item or an indented line
};

}  // namespace

SiteInfo SiteInfo::english() {
  SiteInfo s;
  for (const char* n : {"media", "special", "talk", "user", "user talk", "wikipedia", "wikipedia talk", "file", "file talk",
                        "mediawiki", "mediawiki talk", "template", "template talk", "help", "help talk", "category",
                        "category talk", "portal", "portal talk", "draft", "draft talk", "module", "module talk", "image", "wp"})
    s.namespaces.insert(n);
  s.dropped_namespaces = {"file", "image", "media", "category"};
  s.dbname = "enwiki";
  return s;
}

PlainText to_plain_text(std::string_view wikitext, const SiteInfo& site) {
  const std::string stripped = strip_blocks(wikitext);
  Writer w;
  Renderer(site, w, stripped).render(stripped, 0);
  PlainText out;
  out.text = std::move(w.str());
  while (!out.text.empty() && (out.text.back() == '\n' || out.text.back() == ' ')) out.text.pop_back();
  size_t lead = 0;
  while (lead < out.text.size() && (out.text[lead] == '\n' || out.text[lead] == ' ')) ++lead;
  out.text.erase(0, lead);
  for (auto& l : w.links) {
    if (l.begin < lead) continue;
    l.begin -= lead;
    l.end = std::min(l.end - lead, out.text.size());
    if (l.end > l.begin) out.links.push_back(std::move(l));
  }
  return out;
}

std::string first_paragraph(const PlainText& t) {
  size_t start = 0;
  while (start < t.text.size()) {
    size_t end = t.text.find('\n', start);
    if (end == std::string::npos) end = t.text.size();
    std::string_view p(t.text.data() + start, end - start);
    while (!p.empty() && p.front() == ' ') p.remove_prefix(1);
    while (!p.empty() && p.back() == ' ') p.remove_suffix(1);
    const bool prose = p.size() >= 20 && std::any_of(p.begin(), p.end(), [](char c) {
                         return std::isalpha(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80;
                       });
    if (prose) return std::string(p);
    start = end + 1;
  }
  return "";
}

std::string normalise_title(std::string_view title, const SiteInfo& site) {
  std::string t;
  t.reserve(title.size());
  for (char c : title) {
    if (c == '_' || c == '\t' || c == '\n' || c == '\r') c = ' ';
    if (c == ' ' && (t.empty() || t.back() == ' ')) continue;
    t += c;
  }
  while (!t.empty() && t.back() == ' ') t.pop_back();
  if (t.empty() || !site.first_letter_case) return t;
  utf8proc_int32_t cp;
  auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(t.data()), static_cast<utf8proc_ssize_t>(t.size()), &cp);
  if (n <= 0) return t;
  const utf8proc_int32_t up = cp == 0xDF ? cp : utf8proc_toupper(cp);  // MediaWiki keeps "ß" as it is
  if (up == cp) return t;
  std::string head;
  append_code_point(head, up);
  return head + t.substr(static_cast<size_t>(n));
}

}  // namespace ner4el::wiki
