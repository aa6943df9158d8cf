#include "ner4el/wordnet.h"
#include "kb/writer.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_set>

#include "ner4el/error.h"
#include "ner4el/text.h"

namespace ner4el {

namespace fs = std::filesystem;

namespace {

std::ifstream open_db_file(const std::string& dir, const char* name) {
  std::string path = (fs::path(dir) / name).string();
  std::ifstream in(path);
  if (!in)
    throw NotFound("WordNet file " + path + " not found (install Debian's wordnet-base with scripts/install-deps, "
                   "or set WNSEARCHDIR to the folder holding data.noun)");
  return in;
}

std::string normalise(std::string_view lemma) {
  std::string s = lower_case(lemma);
  std::replace(s.begin(), s.end(), ' ', '_');
  return s;
}

}  // namespace

std::string WordNet::default_dir() {
  if (const char* d = std::getenv("WNSEARCHDIR"); d && *d) return d;
  return "/usr/share/wordnet";
}

WordNet WordNet::load(const std::string& dir) {
  WordNet wn;
  const std::string data_path = (fs::path(dir) / "data.noun").string();
  {
    auto in = open_db_file(dir, "data.noun");
    std::string line;
    size_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.empty() || line[0] == ' ') continue;  // licence header
      auto bar = line.find(" | ");
      std::istringstream ss(line.substr(0, bar));
      Synset s;
      std::string lexfile, type, wcnt, pcnt;
      if (!(ss >> s.offset >> lexfile >> type >> wcnt))
        throw FormatError(location(data_path, n) + ": malformed synset line");
      s.lex_file = static_cast<uint8_t>(std::stoi(lexfile));
      int words = std::stoi(wcnt, nullptr, 16);
      for (int i = 0; i < words; ++i) {
        std::string w, lexid;
        if (!(ss >> w >> lexid)) throw FormatError(location(data_path, n) + ": truncated word list");
        s.lemmas.push_back(w);
        s.lex_ids.push_back(static_cast<uint8_t>(std::stoi(lexid, nullptr, 16)));
      }
      ss >> pcnt;
      int ptrs = std::stoi(pcnt);
      for (int i = 0; i < ptrs; ++i) {
        std::string sym, pos, st;
        uint32_t target;
        if (!(ss >> sym >> target >> pos >> st)) throw FormatError(location(data_path, n) + ": truncated pointer list");
        if (pos != "n") continue;
        if (sym == "@") s.hypernyms.push_back(target);
        if (sym == "@i") s.instance_of.push_back(target);
      }
      if (bar != std::string::npos) {
        s.gloss = line.substr(bar + 3);
        while (!s.gloss.empty() && s.gloss.back() == ' ') s.gloss.pop_back();
      }
      wn.synsets_.emplace(s.offset, std::move(s));
    }
  }
  {
    auto in = open_db_file(dir, "index.noun");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == ' ') continue;
      std::istringstream ss(line);
      std::string lemma, pos;
      int synsets, pcount;
      ss >> lemma >> pos >> synsets >> pcount;
      std::string skip;
      for (int i = 0; i < pcount; ++i) ss >> skip;
      ss >> skip >> skip;  // sense_cnt, tagsense_cnt
      auto& v = wn.index_[lemma];
      uint32_t off;
      for (int i = 0; i < synsets && ss >> off; ++i) v.push_back(off);
    }
  }
  {
    auto in = open_db_file(dir, "noun.exc");
    std::string inflected, base;
    while (in >> inflected >> base) {
      wn.exceptions_.emplace(inflected, base);
      std::getline(in, inflected);  // further base forms are ignored
    }
  }
  // cntlist.rev: "lemma%1:lexfile:lexid:: sense_number tag_count" for nouns.
  std::unordered_map<std::string, uint32_t> by_key;
  for (const auto& [off, s] : wn.synsets_)
    for (size_t i = 0; i < s.lemmas.size(); ++i)
      by_key.emplace(normalise(s.lemmas[i]) + ":" + std::to_string(s.lex_file) + ":" + std::to_string(s.lex_ids[i]), off);
  {
    auto in = open_db_file(dir, "cntlist.rev");
    std::string key;
    uint32_t sense, count;
    while (in >> key >> sense >> count) {
      auto pct = key.find('%');
      if (pct == std::string::npos || key.compare(pct + 1, 2, "1:") != 0) continue;
      int lexfile = 0, lexid = 0;
      if (std::sscanf(key.c_str() + pct + 3, "%d:%d", &lexfile, &lexid) != 2) continue;
      auto it = by_key.find(key.substr(0, pct) + ":" + std::to_string(lexfile) + ":" + std::to_string(lexid));
      if (it != by_key.end()) wn.synsets_[it->second].tag_count += count;
    }
  }
  return wn;
}

const WordNet::Synset* WordNet::synset(uint32_t offset) const {
  auto it = synsets_.find(offset);
  return it == synsets_.end() ? nullptr : &it->second;
}

const std::vector<uint32_t>& WordNet::senses(std::string_view lemma) const {
  static const std::vector<uint32_t> none;
  auto it = index_.find(normalise(lemma));
  return it == index_.end() ? none : it->second;
}

std::optional<uint32_t> WordNet::find(std::string_view name) const {
  auto dot = name.find(".n.");
  if (dot == std::string_view::npos) return std::nullopt;
  int sense = std::atoi(std::string(name.substr(dot + 3)).c_str());
  const auto& s = senses(name.substr(0, dot));
  if (sense < 1 || static_cast<size_t>(sense) > s.size()) return std::nullopt;
  return s[sense - 1];
}

std::vector<std::string> WordNet::base_forms(std::string_view word) const {
  std::string w = normalise(word);
  std::vector<std::string> out;
  auto add = [&](const std::string& f) {
    if (index_.count(f) && std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  };
  add(w);
  if (!out.empty()) return out;  // a noun as it stands: "species" is not the plural of "specie"
  if (auto it = exceptions_.find(w); it != exceptions_.end()) add(it->second);
  static const std::pair<const char*, const char*> rules[] = {{"s", ""},    {"ses", "s"}, {"xes", "x"},  {"zes", "z"},
                                                              {"ches", "ch"}, {"shes", "sh"}, {"men", "man"}, {"ies", "y"}};
  for (auto [suffix, repl] : rules) {
    std::string_view sv(suffix);
    if (w.size() > sv.size() && w.compare(w.size() - sv.size(), sv.size(), sv) == 0)
      add(w.substr(0, w.size() - sv.size()) + repl);
  }
  return out;
}

std::vector<uint32_t> WordNet::instances() const {
  std::vector<uint32_t> out;
  for (const auto& [off, s] : synsets_)
    if (!s.instance_of.empty()) out.push_back(off);
  std::sort(out.begin(), out.end());
  return out;
}

// ---------------------------------------------------------------------------------------------

std::string NerTyper::default_mapping() {
  if (const char* p = std::getenv("NER4EL_WORDNET_CLASSES"); p && *p) return p;
  for (const char* candidate : {NER4EL_DATA_DIR "/wordnet_classes.tsv", NER4EL_SOURCE_CONF "/wordnet_classes.tsv"})
    if (fs::exists(candidate)) return candidate;
  return NER4EL_SOURCE_CONF "/wordnet_classes.tsv";
}

NerTyper::NerTyper(const WordNet& wordnet, const std::string& mapping_file) : wn_(wordnet) {
  std::ifstream in(mapping_file);
  if (!in) throw NotFound("cannot open the WordNet class mapping " + mapping_file);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream ss(line);
    std::string name, cls;
    if (!(ss >> name)) continue;
    if (!(ss >> cls)) throw FormatError(location(mapping_file, n) + ": expected 'synset.n.NN<TAB>CLASS'");
    auto off = wn_.find(name);
    if (!off) throw InvalidArgument(location(mapping_file, n) + ": WordNet has no noun sense '" + name + "'");
    classes_[*off] = cls;
  }
}

std::string NerTyper::type_synset(uint32_t offset) const {
  // Breadth-first over instance-of and hypernym links: the nearest mapped ancestor decides.
  std::deque<uint32_t> queue{offset};
  std::unordered_set<uint32_t> seen{offset};
  while (!queue.empty()) {
    uint32_t cur = queue.front();
    queue.pop_front();
    if (auto it = classes_.find(cur); it != classes_.end()) return it->second;
    const auto* s = wn_.synset(cur);
    if (!s) continue;
    for (const auto* links : {&s->instance_of, &s->hypernyms})
      for (uint32_t h : *links)
        if (seen.insert(h).second) queue.push_back(h);
  }
  return "";
}

namespace {
std::vector<std::string> words_of(std::string_view text);
bool is_stop_word(const std::string& w);
}  // namespace

std::string NerTyper::type_word(const std::string& word, const std::vector<std::string>& context) const {
  for (const auto& base : wn_.base_forms(word)) {
    const auto& senses = wn_.senses(base);
    if (senses.empty()) continue;
    std::vector<std::pair<std::string, double>> votes;  // in sense order, so ties go to the frequent
    for (uint32_t off : senses) {
      std::string c = type_synset(off);
      const auto* s = wn_.synset(off);
      if (c.empty() || !s) continue;
      // Context overlap decides; among equal overlaps the most frequent sense (the first) wins.
      double score = 0;
      if (!context.empty()) {
        std::unordered_set<std::string> bag;
        auto add = [&](const WordNet::Synset& x) {
          for (auto& w : words_of(x.gloss)) bag.insert(w);
          for (auto l : x.lemmas) {
            std::replace(l.begin(), l.end(), '_', ' ');
            for (auto& w : words_of(l)) bag.insert(w);
          }
        };
        add(*s);
        for (uint32_t h : s->hypernyms)
          if (const auto* hs = wn_.synset(h)) add(*hs);
        for (const auto& w : context) score += bag.count(w);
      }
      votes.emplace_back(c, score);
    }
    if (votes.empty()) continue;
    return std::max_element(votes.begin(), votes.end(), [](const auto& a, const auto& b) { return a.second < b.second; })
        ->first;  // max_element keeps the first of equal maxima
  }
  return "";
}

namespace {

const std::unordered_set<std::string>& determiners() {
  static const std::unordered_set<std::string> s{"a", "an", "the", "one", "any", "some", "this", "these", "those",
                                                 "his", "her", "its", "their", "our", "my", "your", "another", "each"};
  return s;
}
const std::unordered_set<std::string>& chunk_breaks() {
  static const std::unordered_set<std::string> s{
      "of", "in", "on", "at", "for", "from", "by", "with", "to", "who", "which", "that", "whose", "where", "when",
      "and", "or", "but", "as", "is", "was", "are", "were", "be", "been", "having", "has", "had", "than", "into",
      "near", "between", "under", "over", "about", "during", "after", "before", "since", "until", "founded", "born",
      "located", "known", "called", "named", "best", "used", "made", "based", "like", "such", "also", "not"};
  return s;
}

bool is_stop_word(const std::string& w) {
  return determiners().count(w) || chunk_breaks().count(w);
}

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : lower_case(text)) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '\'' || (static_cast<unsigned char>(c) >= 0x80)) {
      cur.push_back(c);
    } else {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
      if (c == ',' || c == ';' || c == '(' || c == ')' || c == ':' || c == '.') out.push_back(std::string(1, c));
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace

std::string NerTyper::head_noun(std::string_view description) const {
  auto words = words_of(description);
  // "X is a/the ...": the description proper starts after the first copula, if early enough.
  for (size_t i = 0; i < words.size() && i < 20; ++i) {
    if (words[i] == "is" || words[i] == "was" || words[i] == "are" || words[i] == "were") {
      words.erase(words.begin(), words.begin() + static_cast<std::ptrdiff_t>(i + 1));
      break;
    }
  }
  // Up to three noun-phrase chunks; a chunk's head is its last noun. The first head with a class
  // wins ("the capital and largest city" -> capital, then city).
  size_t i = 0;
  std::string first_head;
  for (int chunk = 0; chunk < 3 && i < words.size(); ++chunk) {
    while (i < words.size() && (determiners().count(words[i]) || chunk_breaks().count(words[i]) || words[i].size() == 1))
      ++i;
    std::string head;
    while (i < words.size() && !chunk_breaks().count(words[i]) && words[i].size() > 1) {
      if (!wn_.base_forms(words[i]).empty()) head = words[i];
      ++i;
    }
    if (head.empty()) continue;
    // "a species of bird", "a kind of tree": the noun after "of" is the real head.
    static const std::unordered_set<std::string> partitive{"species", "kind", "type", "sort", "genus", "variety",
                                                           "breed", "form", "brand", "make", "model"};
    if (partitive.count(head) && i < words.size() && words[i] == "of") {
      --chunk;
      continue;
    }
    if (first_head.empty()) first_head = head;
    if (!type_word(head).empty()) return head;
  }
  return first_head;
}

std::string NerTyper::type_description(std::string_view description) const {
  std::string head = head_noun(description);
  if (head.empty()) return "";
  const auto words = words_of(description);
  // A compound WordNet knows beats its head alone: "a flowering plant" is a flowering_plant (PLANT),
  // not the first sense of plant (an industrial plant).
  for (size_t i = 1; i < words.size(); ++i)
    if (words[i] == head && !is_stop_word(words[i - 1])) {
      const auto& senses = wn_.senses(words[i - 1] + " " + head);
      if (!senses.empty()) {
        std::string c = type_synset(senses.front());
        if (!c.empty()) return c;
      }
      break;
    }
  std::vector<std::string> context;
  for (auto& w : words)
    if (w != head && w.size() > 2 && !is_stop_word(w)) context.push_back(w);
  return type_word(head, context);
}

// ---------------------------------------------------------------------------------------------

KbBuildReport build_wordnet_kb(const WordNet& wn, const NerTyper& typer, const std::string& out_dir,
                               const KbBuildOptions& options) {
  auto plain = [](std::string s) {
    std::replace(s.begin(), s.end(), '_', ' ');
    return s;
  };
  // Titles must name one entity (gold labels are titles): where instances share a first lemma,
  // the most frequent keeps it and the others get their class noun, Wikipedia-style: "Paris (prince)".
  const auto ids = wn.instances();
  std::unordered_map<std::string, uint32_t> owner;
  for (uint32_t off : ids) {
    const auto& s = *wn.synset(off);
    auto [it, fresh] = owner.emplace(plain(s.lemmas.front()), off);
    if (!fresh && wn.synset(it->second)->tag_count < s.tag_count) it->second = off;
  }
  std::unordered_set<std::string> used;
  kb::Writer writer(out_dir, options);  // a reader of WordNet beside the others: straight into the writer
  for (uint32_t off : ids) {
    const auto& s = *wn.synset(off);
    std::string title = plain(s.lemmas.front());
    if (owner[title] != off) {
      title += " (" + plain(wn.synset(s.instance_of.front())->lemmas.front());
      title += used.count(title + ")") ? ", " + std::to_string(off) + ")" : ")";
    }
    used.insert(title);
    writer.set_title(off, title);
    writer.set_count(off, 1 + s.tag_count);
    const std::string cls = typer.type_synset(off);
    if (!cls.empty()) writer.set_class(off, cls);
    writer.add_entity(off, s.gloss);
  }
  for (uint32_t off : ids)
    for (const auto& lemma : wn.synset(off)->lemmas) writer.add_alias(plain(lemma), {off});
  return writer.finish("WordNet");
}

}  // namespace ner4el
