// The Wikipedia importer: wikitext to text, dump reading (bz2 one stream and multistream, plain XML,
// UTF-16), SQL tables, the KB and mentions it builds, resume, bad dumps; and gensim's real pieces
// of English and Bulgarian Wikipedia (samples/wikipedia, from scripts/install-deps).
#include <bzlib.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ner4el/candidates.h"
#include "ner4el/error.h"
#include "ner4el/kb.h"
#include "ner4el/wikipedia.h"
#include "test_util.h"
#include "wiki/dump.h"
#include "wiki/sql.h"
#include "wiki/wikitext.h"

namespace ner4el {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

wiki::PlainText plain(const std::string& wikitext) { return wiki::to_plain_text(wikitext, wiki::SiteInfo::english()); }

std::vector<std::pair<std::string, std::string>> links_of(const wiki::PlainText& t) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& l : t.links) out.emplace_back(t.text.substr(l.begin, l.end - l.begin), l.target);
  return out;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(Wikitext, MarkupGoesAndLinksKeepTheirSpans) {
  auto t = plain(
      "{{Infobox settlement|name=Paris|population={{formatnum:2165423}}}}\n"
      "'''Paris''' ({{IPA|fr|pa\xca\x81i}}) is the [[capital city|capital]] of [[France]].<ref>{{cite web|url=http://x}}</ref> "
      "It lies on the [[Seine|River Seine]].<!-- a comment -->\n\n"
      "== History ==\nThe [[Parisii (Gaul)|Parisii]] founded it, with [[bus]]es &amp; [[Boat]]s&nbsp;too.\n"
      "[[Category:Capitals in Europe]]\n[[fr:Paris]]\n[[File:Paris.jpg|thumb|The [[Eiffel Tower]] in Paris]]\n");
  EXPECT_EQ(t.text,
            "Paris is the capital of France. It lies on the River Seine.\n"
            "The Parisii founded it, with buses & Boats too.");
  EXPECT_EQ(links_of(t), (Pairs{{"capital", "capital city"},
                                {"France", "France"},
                                {"River Seine", "Seine"},
                                {"Parisii", "Parisii (Gaul)"},
                                {"buses", "bus"},
                                {"Boats", "Boat"}}));
  EXPECT_EQ(wiki::first_paragraph(t), "Paris is the capital of France. It lies on the River Seine.");
}

TEST(Wikitext, TablesTagsListsAndOtherConstructs) {
  auto t = plain(
      "{| class=\"wikitable\"\n|-\n! Year !! Event\n|-\n| 1889 || [[Eiffel Tower]] {{nested|{{deep}}}}\n|}\n"
      "__NOTOC__\n''Italic'' and '''''both''''' <span style=\"x\">kept</span> <math>x^2</math>"
      "<ref name=\"a\"/> <nowiki>[[not a link]]</nowiki>.\n"
      "* first [[Item]]\n# second\n: indented\n"
      "An [http://example.org external label] and [http://bare.org] and [[:Category:Shown|shown]] "
      "[[Paris (mythology)|]] [[wikt:word|word]] [[Talk:Page|talk]].\n"
      "<gallery>\nA.jpg|[[Hidden]]\n</gallery>Text &#233;t&#xE9; &bogus; &#99999999;\n");
  EXPECT_EQ(t.text,
            "Italic and both kept [[not a link]].\nfirst Item\nsecond\nindented\n"
            "An external label and and shown Paris word talk. Text \xc3\xa9t\xc3\xa9 &bogus; &#99999999;");
  // Only main-namespace targets are links: not wiktionary, talk pages or the category shown as text.
  EXPECT_EQ(links_of(t), (Pairs{{"Item", "Item"}, {"Paris", "Paris (mythology)"}}));
}

TEST(Wikitext, UnbalancedAndPathologicalInputStayLinear) {
  // Each of these is megabytes of an opening that never closes: a quadratic scan would not finish.
  for (const std::string unit : {"[[", "{{", "<a ", "&amp", "[http://x ", "__A", "{|\n", "<ref>", "<!--", "'''", "(;"}) {
    std::string s;
    while (s.size() < (4u << 20)) s += unit + "x ";
    auto t = plain(s);
    EXPECT_LE(t.text.size(), s.size()) << unit;
  }
  // Nesting beyond the depth limit is text, not a stack overflow.
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "[[a|";
  for (int i = 0; i < 100000; ++i) deep += "]]";
  EXPECT_NO_THROW(plain(deep));
  auto broken = plain("A [[broken link and {{unclosed template\nnext line [[Fine]].");
  EXPECT_EQ(broken.text, "A [[broken link and next line Fine.");
  EXPECT_EQ(links_of(broken), (Pairs{{"Fine", "Fine"}}));
}

TEST(Wikitext, TitlesAreNormalisedAsMediaWikiStoresThem) {
  const auto en = wiki::SiteInfo::english();
  EXPECT_EQ(wiki::normalise_title("  new_york   city ", en), "New york city");
  EXPECT_EQ(wiki::normalise_title("\xc3\xa9" "cole", en), "\xc3\x89" "cole");
  EXPECT_EQ(wiki::normalise_title("\xd0\xb3\xd1\x80\xd0\xb0\xd0\xb4", en), "\xd0\x93\xd1\x80\xd0\xb0\xd0\xb4");  // град -> Град
  wiki::SiteInfo wiktionary = en;
  wiktionary.first_letter_case = false;
  EXPECT_EQ(wiki::normalise_title("word", wiktionary), "word");
}

// ---------------------------------------------------------------------------------------------
// Dumps the tests write

struct TestPage {
  std::string title;
  int64_t id;
  std::string text;
  std::string redirect = "";
  int ns = 0;
};

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

const char* kSiteInfo =
    "<mediawiki xmlns=\"http://www.mediawiki.org/xml/export-0.10/\" version=\"0.10\" xml:lang=\"en\">\n"
    "  <siteinfo>\n    <sitename>Wikipedia</sitename>\n    <dbname>enwiki</dbname>\n    <case>first-letter</case>\n"
    "    <namespaces>\n      <namespace key=\"-2\" case=\"first-letter\">Media</namespace>\n"
    "      <namespace key=\"0\" case=\"first-letter\" />\n      <namespace key=\"6\" case=\"first-letter\">File</namespace>\n"
    "      <namespace key=\"10\" case=\"first-letter\">Template</namespace>\n"
    "      <namespace key=\"14\" case=\"first-letter\">Category</namespace>\n    </namespaces>\n  </siteinfo>\n";

std::string page_xml(const TestPage& p) {
  std::string x = "  <page>\n    <title>" + xml_escape(p.title) + "</title>\n    <ns>" + std::to_string(p.ns) + "</ns>\n    <id>" +
                  std::to_string(p.id) + "</id>\n";
  if (!p.redirect.empty()) x += "    <redirect title=\"" + xml_escape(p.redirect) + "\" />\n";
  x += "    <revision>\n      <id>" + std::to_string(p.id * 10) + "</id>\n      <text bytes=\"" + std::to_string(p.text.size()) +
       "\" xml:space=\"preserve\">" + xml_escape(p.text) + "</text>\n    </revision>\n  </page>\n";
  return x;
}

std::string bz2(const std::string& data) {
  std::string out(data.size() + data.size() / 100 + 700, '\0');
  unsigned n = static_cast<unsigned>(out.size());
  EXPECT_EQ(BZ2_bzBuffToBuffCompress(out.data(), &n, const_cast<char*>(data.data()), static_cast<unsigned>(data.size()), 9, 0, 0), BZ_OK);
  out.resize(n);
  return out;
}

void write_gz(const std::string& path, const std::string& data) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_TRUE(f);
  ASSERT_EQ(gzwrite(f, data.data(), static_cast<unsigned>(data.size())), static_cast<int>(data.size()));
  gzclose(f);
}

const std::vector<TestPage>& english_pages() {
  static const std::vector<TestPage> pages = {
      {"Paris", 10,
       "{{Infobox settlement|name=Paris}}\n'''Paris''' ({{IPA|fr|pari}}) is the [[capital city|capital]] of [[France]]."
       "<ref>{{cite web|url=http://x}}</ref> It lies on the [[Seine|River Seine]].\n\n== History ==\nThe "
       "[[Parisii (Gaul)|Parisii]] founded it. See [[Paris (mythology)|Paris of Troy]].\n[[Category:Capitals]]\n"
       "[[File:Paris.jpg|thumb|The [[Eiffel Tower]]]]"},
      {"France", 20, "'''France''' is a country in [[Europe]]. Its capital is [[Paris]]."},
      {"Paris (mythology)", 30, "'''Paris''' is a prince of [[Troy]] in Greek myth, son of [[Priam]]."},
      {"Paris (disambiguation)", 40,
       "'''Paris''' may refer to:\n* [[Paris]], the capital of France\n* [[Paris (mythology)]], a prince of Troy\n"
       "{{disambiguation}}"},
      {"City of Light", 50, "#REDIRECT [[Paris]]", "Paris"},
      {"Lutetia", 60, "#REDIRECT [[City of Light]]", "City of Light"},
      {"Loop A", 70, "#REDIRECT [[Loop B]]", "Loop B"},
      {"Loop B", 71, "#REDIRECT [[Loop A]]", "Loop A"},
      {"Seine", 80, "The '''Seine''' is a river in [[France]]. Its mouth is near [[Le Havre]]; [[Paris (mythology)|Paris]] never saw it."},
      {"Template:Infobox settlement", 90, "{{{name}}} is a template", "", 10},
      {"Troy", 100, "'''Troy''' was an ancient city. [[Paris (mythology)|Paris]] took Helen there; see [[city of Light]]."},
      {"Table only", 110, "{| class=\"wikitable\"\n|-\n| a || b\n|}\n"},
      {"Europe", 120, "{{short description|Continent}}\n'''Europe''' is a continent on the [[Earth|planet Earth]]."},
  };
  return pages;
}

/// Writes the pages as a dump: "plain" XML, "bz2" one stream, or "multistream" (siteinfo, then
/// streams of `per_stream` pages, then the closing tag, each its own bz2 stream) with its index.
std::string write_dump(const TempDir& dir, const std::string& kind, const std::vector<TestPage>& pages, size_t per_stream = 3,
                       std::string* index = nullptr) {
  std::string all = kSiteInfo;
  for (const auto& p : pages) all += page_xml(p);
  all += "</mediawiki>\n";
  if (kind == "plain") {
    test::write_file(dir.file("dump.xml"), all);
    return dir.file("dump.xml");
  }
  if (kind == "bz2") {
    test::write_file(dir.file("dump.xml.bz2"), bz2(all));
    return dir.file("dump.xml.bz2");
  }
  std::string file = bz2(kSiteInfo), idx;
  for (size_t i = 0; i < pages.size(); i += per_stream) {
    std::string group;
    for (size_t j = i; j < std::min(pages.size(), i + per_stream); ++j) {
      group += page_xml(pages[j]);
      idx += std::to_string(file.size()) + ":" + std::to_string(pages[j].id) + ":" + pages[j].title + "\n";
    }
    file += bz2(group);
  }
  file += bz2("</mediawiki>\n");
  test::write_file(dir.file("dump-multistream.xml.bz2"), file);
  if (index) {
    test::write_file(dir.file("index.txt.bz2"), bz2(idx));
    *index = dir.file("index.txt.bz2");
  }
  return dir.file("dump-multistream.xml.bz2");
}

std::vector<std::string> titles_of(const KnowledgeBase& kb, const std::string& alias) {
  std::vector<std::string> out;
  if (auto ids = kb.alias(alias))
    for (int64_t id : *ids) out.push_back(kb.entity(id)->title);
  return out;
}

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

using Titles = std::vector<std::string>;

TEST(WikipediaKb, ArticlesRedirectsDisambiguationAnchorsAndMentions) {
  TempDir dir;
  WikipediaBuildOptions o;
  o.dump = write_dump(dir, "bz2", english_pages());
  o.mentions = dir.file("mentions.jsonl");
  o.kb.typer = [](const Entity& e) { return e.description.find("river") != std::string::npos ? std::string("LOC") : std::string(); };
  const auto rep = build_wikipedia_kb(o, dir.file("kb"));
  EXPECT_EQ(rep.site, "enwiki");
  EXPECT_EQ(rep.pages, 13u);
  EXPECT_EQ(rep.other_namespaces, 1u);
  EXPECT_EQ(rep.articles, 7u);
  EXPECT_EQ(rep.described, 6u);  // "Table only" has no prose
  EXPECT_EQ(rep.redirects, 4u);
  EXPECT_EQ(rep.redirects_resolved, 2u);  // City of Light, and Lutetia through it; the loop reaches nothing
  EXPECT_EQ(rep.disambiguation_pages, 1u);
  EXPECT_FALSE(fs::exists(dir.file("kb.work")));  // the work directory goes after a build

  auto kb = KnowledgeBase::open(dir.file("kb"));
  EXPECT_EQ(kb.info().entities, 7u);
  auto paris = kb.entity(10);
  ASSERT_TRUE(paris);
  EXPECT_EQ(paris->title, "Paris");
  EXPECT_EQ(paris->description, "Paris is the capital of France. It lies on the River Seine.");
  EXPECT_EQ(paris->count, 2);                  // France, and Troy through a redirect (the disambiguation page does not count)
  EXPECT_EQ(kb.entity(30)->count, 3);          // "Paris of Troy" on Paris, "Paris" on Troy and on Seine
  EXPECT_EQ(kb.entity(20)->count, 2);          // Paris, Seine
  EXPECT_EQ(kb.entity(80)->ner_class, "LOC");  // the typer ran
  EXPECT_FALSE(kb.entity(110)->has_description);
  EXPECT_FALSE(kb.entity(40));  // disambiguation pages and redirects are no entities
  EXPECT_FALSE(kb.entity(50));
  EXPECT_EQ(kb.id_of_title("Paris (mythology)"), 30);

  // Titles, titles without their qualifier, redirects (chains too), anchors, disambiguation pages.
  EXPECT_EQ(titles_of(kb, "Paris"), (Titles{"Paris (mythology)", "Paris"}));  // by in-link count
  EXPECT_EQ(titles_of(kb, "city of light"), (Titles{"Paris"}));
  EXPECT_EQ(titles_of(kb, "Lutetia"), (Titles{"Paris"}));
  EXPECT_EQ(titles_of(kb, "river seine"), (Titles{"Seine"}));
  EXPECT_EQ(titles_of(kb, "paris of troy"), (Titles{"Paris (mythology)"}));
  EXPECT_EQ(titles_of(kb, "planet earth"), Titles{});  // Earth is not in this dump
  EXPECT_FALSE(kb.alias("loop a"));
  EXPECT_FALSE(kb.alias("eiffel tower"));  // a file's caption
  EXPECT_FALSE(kb.alias("capitals"));      // a category

  // Every resolved link is a mention with the KB's title as gold.
  auto rows = read_jsonl(o.mentions);
  EXPECT_EQ(rows.size(), rep.mentions);
  EXPECT_EQ(rep.links_resolved, rep.mentions);
  const nlohmann::json want = {{"mention", "France"},
                               {"left_context", "Paris is the capital of"},
                               {"right_context", ". It lies on the River Seine. The Parisii founded it. See Paris of Troy."},
                               {"output", "France"}};
  EXPECT_NE(std::find(rows.begin(), rows.end(), want), rows.end());
  const nlohmann::json redirected = {{"mention", "city of Light"},
                                     {"left_context", "Troy was an ancient city. Paris took Helen there; see"},
                                     {"right_context", "."},
                                     {"output", "Paris"}};
  EXPECT_NE(std::find(rows.begin(), rows.end(), redirected), rows.end());
  for (const auto& r : rows) EXPECT_NE(r["output"], "Le Havre");  // not in the KB: no mention

  // Anchor counts: "Paris" linked Paris (mythology) twice (Troy, Seine); France's "Paris" is
  // "[[Paris]]" too. p(e|m) comes from these.
  EXPECT_EQ(kb.anchor_counts("PARIS"), (std::vector<std::pair<int64_t, uint64_t>>{{30, 2}, {10, 1}}));
  EXPECT_TRUE(kb.anchor_counts("lutetia").empty());  // a redirect title, never an anchor

  // The KB answers as the release's files do: candidates through the generator.
  CandidateGenerator gen(kb);
  EXPECT_EQ(gen.candidates("paris").ids, (std::vector<int64_t>{30, 10}));
}

TEST(WikipediaKb, MultistreamWithAndWithoutIndexPlainAndOneStreamAgree) {
  TempDir dir;
  std::vector<TestPage> pages = english_pages();
  for (int i = 0; i < 40; ++i)  // more pages, so there are many streams and chunks
    pages.push_back({"Town " + std::to_string(i), 1000 + i, "'''Town " + std::to_string(i) + "''' is a town in [[France]] near [[Town " +
                                                                std::to_string((i + 1) % 40) + "|the next town]]."});
  std::string index;
  std::map<std::string, std::string> dumps = {{"multistream", write_dump(dir, "multistream", pages, 3, &index)},
                                              {"bz2", write_dump(dir, "bz2", pages)},
                                              {"plain", write_dump(dir, "plain", pages)}};
  auto summary = [&](const std::string& kb_dir) {
    auto kb = KnowledgeBase::open(kb_dir);
    std::string s = std::to_string(kb.info().entities) + " " + std::to_string(kb.info().aliases);
    for (const char* a : {"paris", "the next town", "france", "town 7", "city of light"})
      for (const auto& t : titles_of(kb, a)) s += "|" + t;
    for (int64_t id : {10, 20, 1007}) s += "|" + std::to_string(kb.entity(id)->count) + kb.entity(id)->description;
    return s;
  };
  std::string first;
  int n = 0;
  for (const auto& [kind, path] : dumps) {
    for (const std::string& idx : kind == "multistream" ? std::vector<std::string>{index, ""} : std::vector<std::string>{""}) {
      WikipediaBuildOptions o;
      o.dump = path;
      o.multistream_index = idx;
      o.chunk_bytes = 600;  // a few streams (or pages) a chunk
      o.threads = 3;
      const std::string out = dir.file("kb" + std::to_string(n++));
      const auto rep = build_wikipedia_kb(o, out);
      if (kind != "bz2") EXPECT_GT(rep.chunks, 5u) << kind;
      if (kind == "bz2") EXPECT_EQ(rep.chunks, 1u);
      EXPECT_EQ(rep.articles, 47u) << kind;
      const std::string s = summary(out);
      if (first.empty()) first = s;
      EXPECT_EQ(s, first) << kind << " index '" << idx << "'";
    }
  }
  EXPECT_NE(first.find("|Town 8"), std::string::npos);  // "the next town" of Town 7
}

TEST(WikipediaKb, ResumesFromTheChunksAKilledRunFinished) {
  TempDir dir;
  std::vector<TestPage> pages = english_pages();
  for (int i = 0; i < 30; ++i) pages.push_back({"Village " + std::to_string(i), 2000 + i, "'''Village''' is in [[France]]."});
  WikipediaBuildOptions o;
  o.dump = write_dump(dir, "multistream", pages, 2);
  o.chunk_bytes = 400;
  o.mentions = dir.file("m.jsonl");
  o.work_dir = dir.file("work");
  o.keep_work = true;
  const auto full = build_wikipedia_kb(o, dir.file("kb"));
  ASSERT_GT(full.chunks, 4u);
  EXPECT_EQ(full.chunks_resumed, 0u);
  const std::string mentions = test::read_file(o.mentions);
  // As a kill leaves it: two chunks unfinished (no done marker, a half-written file), no KB yet.
  fs::remove(dir.file("work/chunk-000001.done"));
  fs::remove(dir.file("work/chunk-000003.done"));
  test::write_file(dir.file("work/chunk-000003.pages.tmp"), "half");
  fs::remove_all(dir.file("kb"));
  fs::remove(o.mentions);
  const auto again = build_wikipedia_kb(o, dir.file("kb"));
  EXPECT_EQ(again.chunks_resumed, full.chunks - 2);
  EXPECT_EQ(again.articles, full.articles);
  EXPECT_EQ(again.links_resolved, full.links_resolved);
  EXPECT_EQ(test::read_file(o.mentions), mentions);
  EXPECT_FALSE(fs::exists(dir.file("work/chunk-000003.pages.tmp")));
  // Another dump in the same work directory starts over rather than mixing chunks.
  pages.push_back({"Hamlet", 3000, "'''Hamlet''' is small."});
  o.dump = write_dump(dir, "multistream", pages, 2);
  o.kb.overwrite = true;
  const auto other = build_wikipedia_kb(o, dir.file("kb"));
  EXPECT_EQ(other.chunks_resumed, 0u);
  EXPECT_EQ(other.articles, full.articles + 1);
  // A work directory that is not ours is refused.
  fs::create_directories(dir.file("mine"));
  test::write_file(dir.file("mine/notes.txt"), "x");
  o.work_dir = dir.file("mine");
  EXPECT_THROW(build_wikipedia_kb(o, dir.file("kb")), InvalidArgument);
  EXPECT_EQ(test::read_file(dir.file("mine/notes.txt")), "x");
}

TEST(WikipediaKb, SqlTablesGiveRedirectsAndDisambiguationPages) {
  TempDir dir;
  std::vector<TestPage> pages = english_pages();
  pages.push_back({"Parigi", 130, "'''Parigi''' elenco:\n* [[Paris]]\n* [[Troy]]"});  // listed only by page_props
  WikipediaBuildOptions o;
  o.dump = write_dump(dir, "bz2", pages);
  const std::string create =
      "-- MySQL dump\n/*!40101 SET NAMES binary*/;\nDROP TABLE IF EXISTS `page_props`;\nCREATE TABLE `page_props` (\n"
      "  `pp_page` int(10) unsigned NOT NULL,\n  `pp_propname` varbinary(60) NOT NULL,\n  `pp_value` blob NOT NULL,\n"
      "  `pp_sortkey` float DEFAULT NULL,\n  PRIMARY KEY (`pp_page`,`pp_propname`)\n) ENGINE=InnoDB;\n";
  write_gz(dir.file("page_props.sql.gz"),
           create + "INSERT INTO `page_props` VALUES (40,'disambiguation','',NULL),(130,'disambiguation','',NULL),"
                    "(10,'wikibase_item','Q90',NULL),(20,'displaytitle','it\\'s \\\\ ok',1.5);\n");
  write_gz(dir.file("redirect.sql.gz"),
           "CREATE TABLE `redirect` (\n  `rd_from` int(8) unsigned NOT NULL DEFAULT 0,\n  `rd_namespace` int(11) NOT NULL,\n"
           "  `rd_title` varbinary(255) NOT NULL DEFAULT '',\n  `rd_interwiki` varbinary(32) DEFAULT NULL,\n"
           "  `rd_fragment` varbinary(255) DEFAULT NULL\n);\n"
           "INSERT INTO `redirect` VALUES (50,0,'Paris','',NULL),(60,0,'Troy','',''),(70,0,'Seine','',''),(71,4,'Seine','','');\n");
  o.page_props_sql = dir.file("page_props.sql.gz");
  o.redirect_sql = dir.file("redirect.sql.gz");
  const auto rep = build_wikipedia_kb(o, dir.file("kb"));
  EXPECT_EQ(rep.disambiguation_pages, 2u);
  auto kb = KnowledgeBase::open(dir.file("kb"));
  EXPECT_FALSE(kb.entity(130));
  EXPECT_EQ(titles_of(kb, "parigi"), (Titles{"Paris", "Troy"}));
  EXPECT_EQ(titles_of(kb, "lutetia"), (Titles{"Troy"}));   // the table's target, not the XML's
  EXPECT_EQ(titles_of(kb, "loop a"), (Titles{"Seine"}));   // the loop is mended by the table
  EXPECT_EQ(titles_of(kb, "loop b"), (Titles{"Seine"}));  // not in the table (ns 4): the XML's Loop A, then the table's
}

TEST(WikipediaKb, BadDumpsGiveClearErrorsAndNoKb) {
  TempDir dir;
  const std::string good = test::read_file(write_dump(dir, "bz2", english_pages()));
  auto fails = [&](const std::string& name, const std::string& bytes, const std::string& expect, uint64_t max_page = 64u << 20) {
    test::write_file(dir.file(name), bytes);
    WikipediaBuildOptions o;
    o.dump = dir.file(name);
    o.mentions = dir.file(name + ".mentions.jsonl");
    o.max_page_bytes = max_page;
    try {
      build_wikipedia_kb(o, dir.file(name + ".kb"));
      ADD_FAILURE() << name << ": no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << name << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(dir.file(name)), std::string::npos) << name << ": " << e.what();
    }
    EXPECT_FALSE(fs::exists(dir.file(name + ".kb"))) << name;
    EXPECT_FALSE(fs::exists(dir.file(name + ".mentions.jsonl"))) << name;
  };
  fails("truncated.xml.bz2", good.substr(0, good.size() / 2), "truncated");
  std::string corrupt = good;
  corrupt[corrupt.size() / 2] ^= 0x55;
  fails("corrupt.xml.bz2", corrupt, "bzip2");
  fails("notadump.xml", "hello, world\n", "not a MediaWiki XML dump");
  fails("broken.xml",
        std::string(kSiteInfo) + "<page><title>X</title><ns>0</ns><id>1</id><revision><text>abc</revision></page></mediawiki>",
        "broken XML");
  fails("badid.xml", std::string(kSiteInfo) + "<page><title>X</title><ns>0</ns><id>12ab</id></page></mediawiki>",
        "page 'X': <id> is not an integer");
  fails("huge.xml", std::string(kSiteInfo) + page_xml({"Big", 1, std::string(5000, 'a')}) + "</mediawiki>", "longer than 4096",
        4096);
  std::string deep = kSiteInfo;
  for (int i = 0; i < 100; ++i) deep += "<page>";
  fails("deep.xml", deep, "nested more than 32 deep");
}

// Markup that expat would hold whole (a tag with its attributes, a comment, a declaration) is
// bounded, whatever page it sits in; a flood of <?xml?> declarations is filtered in one pass.
TEST(WikipediaKb, HostileMarkupIsBoundedAndDeclarationFloodsFilteredInOnePass) {
  TempDir dir;
  auto build = [&](const std::string& name, const std::string& xml) {
    test::write_file(dir.file(name), xml);
    WikipediaBuildOptions o;
    o.dump = dir.file(name);
    build_wikipedia_kb(o, dir.file(name + ".kb"));
    return KnowledgeBase::open(dir.file(name + ".kb"));
  };
  const std::vector<TestPage> pages(english_pages().begin(), english_pages().begin() + 3);
  std::string body;
  for (const auto& p : pages) body += page_xml(p);
  // 400,000 declarations (8.8 MB) between the pages, one cut by the 64 KiB flush boundary of the
  // old filter, and declarations with '>' in a quoted value or in odd places.
  std::string flood;
  for (int i = 0; i < 400000; ++i) flood += "<?xml version=\"1.0\"?>";
  std::string xml = std::string(kSiteInfo) + flood + page_xml(pages[0]) + "<?xml encoding='a>b'?>" + page_xml(pages[1]) +
                    "<!-- a <comment> --><?pi keep?>" + flood + page_xml(pages[2]) + "</mediawiki>\n<?xml version=\"1.0\"?>";
  const auto flooded = build("flood.xml", xml);
  const auto plain = build("plain.xml", std::string(kSiteInfo) + body + "</mediawiki>\n");
  EXPECT_EQ(flooded.info().entities, plain.info().entities);
  EXPECT_EQ(titles_of(flooded, "paris"), titles_of(plain, "paris"));
  EXPECT_EQ(flooded.info().entities, 3u);

  auto fails = [&](const std::string& name, const std::string& hostile) {
    try {
      build(name, std::string(kSiteInfo) + page_xml(pages[0]) + hostile + page_xml(pages[1]) + "</mediawiki>\n");
      ADD_FAILURE() << name << ": no error";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find("longer than 1048576 bytes"), std::string::npos) << name << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(dir.file(name)), std::string::npos) << name << ": " << e.what();
    }
    EXPECT_FALSE(fs::exists(dir.file(name + ".kb"))) << name;
  };
  const std::string big(3u << 20, 'a');
  fails("attribute.xml", "<page><title>X</title><ns>0</ns><id>9</id><redirect title=\"" + big + "\" /></page>");
  fails("quoted.xml", "<page><title>X</title><ns>0</ns><id>9</id><redirect title=\"" + std::string(3u << 20, '>') + "\" /></page>");
  fails("comment.xml", "<!-- " + big + " -->");
  fails("declaration.xml", "<?xml " + big + "?>");
  fails("cdata.xml", "<![CDATA[" + big + "]]>");
}

// A dump cut exactly at a bz2 stream boundary or at a page boundary decompresses and parses as
// whole; the missing </mediawiki> says it is not, and no KB is built from the half that is there.
TEST(WikipediaKb, DumpCutAtAStreamOrPageBoundaryIsAnError) {
  TempDir dir;
  std::string streams = bz2(kSiteInfo), plain = kSiteInfo;
  std::vector<size_t> boundaries;
  for (size_t i = 0; i < english_pages().size(); i += 3) {
    std::string group;
    for (size_t j = i; j < std::min(english_pages().size(), i + 3); ++j) group += page_xml(english_pages()[j]);
    streams += bz2(group);
    plain += group;
    boundaries.push_back(streams.size());
  }
  auto build = [&](const std::string& name, const std::string& bytes) {
    test::write_file(dir.file(name), bytes);
    WikipediaBuildOptions o;
    o.dump = dir.file(name);
    build_wikipedia_kb(o, dir.file(name + ".kb"));
  };
  build("whole.xml.bz2", streams + bz2("</mediawiki>\n"));  // the same streams with their end: builds
  EXPECT_TRUE(fs::exists(dir.file("whole.xml.bz2.kb")));
  for (const auto& [name, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"no-end.xml.bz2", streams}, {"half.xml.bz2", streams.substr(0, boundaries[1])}, {"pages.xml", plain}}) {
    try {
      build(name, bytes);
      ADD_FAILURE() << name << ": no error";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(dir.file(name) + ": ends without </mediawiki>"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir.file(name + ".kb"))) << name;
  }
}

// The build removes only what it made: a kept work directory that the user has put a file in and
// that another build reuses loses the build's files, not the user's; a killed run's half-written
// mentions file goes on the next run; a work directory that is the output folder is refused at
// once, before any stage.
TEST(WikipediaKb, BuildsRemoveOnlyTheirOwnFiles) {
  TempDir dir;
  const std::string dump = write_dump(dir, "bz2", english_pages());
  WikipediaBuildOptions o;
  o.dump = dump;
  o.work_dir = dir.file("work");
  o.keep_work = true;
  build_wikipedia_kb(o, dir.file("a.kb"));
  ASSERT_TRUE(fs::exists(dir.file("work/plan.json")));
  test::write_file(dir.file("work/notes.txt"), "the user's own file");
  // Another build (with mentions, so another plan) reuses it, and does not keep it.
  o.keep_work = false;
  o.mentions = dir.file("mentions.jsonl");
  test::write_file(dir.file("mentions.jsonl.tmp-999999999"), "what a killed run left");
  test::write_file(dir.file("mentions.jsonl.tmp-notes"), "not ours: no process id");
  const auto report = build_wikipedia_kb(o, dir.file("b.kb"));
  EXPECT_TRUE(fs::exists(dir.file("b.kb/data.mdb")));
  EXPECT_EQ(test::read_file(dir.file("work/notes.txt")), "the user's own file");
  size_t left = 0;
  for (const auto& e : fs::directory_iterator(dir.file("work"))) left += e.path().filename() != "notes.txt";
  EXPECT_EQ(left, 0u) << "the build's own files are gone";
  bool warned = false;
  for (const auto& w : report.kb.warnings) warned |= w.find("holds files the build did not make") != std::string::npos;
  EXPECT_TRUE(warned);
  EXPECT_FALSE(fs::exists(dir.file("mentions.jsonl.tmp-999999999")));
  EXPECT_TRUE(fs::exists(dir.file("mentions.jsonl.tmp-notes")));
  EXPECT_GT(read_jsonl(dir.file("mentions.jsonl")).size(), 0u);
  // Without the user's file, the work directory goes whole.
  fs::remove(dir.file("work/notes.txt"));
  o.mentions.clear();
  build_wikipedia_kb(o, dir.file("c.kb"));
  EXPECT_FALSE(fs::exists(dir.file("work")));
  // --work-dir equal to (or inside) the output: refused before the first stage, nothing touched.
  for (const std::string& work : {dir.file("d.kb"), dir.file("d.kb/work")}) {
    o.work_dir = work;
    try {
      build_wikipedia_kb(o, dir.file("d.kb"));
      ADD_FAILURE() << work << ": no error";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("choose another --work-dir"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir.file("d.kb")));
  }
}

TEST(WikipediaSql, RowsEscapesAndErrors) {
  TempDir dir;
  const std::string create = "CREATE TABLE `t` (\n  `a` int,\n  `b` varbinary(9),\n  KEY `x` (`a`)\n);\n";
  test::write_file(dir.file("t.sql"), create + "INSERT INTO `other` VALUES (1,'no');\nINSERT INTO `t` VALUES (1,'x\\'y'),"
                                               " (-2,'a\\\\b\\nc'),(3,NULL);\n");
  std::vector<std::vector<std::string>> rows;
  wiki::read_sql_table(dir.file("t.sql"), "t", [&](const wiki::SqlRow& r) {
    EXPECT_EQ(r.column("b"), 1u);
    rows.push_back(r.values);
  });
  EXPECT_EQ(rows, (std::vector<std::vector<std::string>>{{"1", "x'y"}, {"-2", "a\\b\nc"}, {"3", ""}}));
  auto fails = [&](const std::string& text, const std::string& expect) {
    test::write_file(dir.file("bad.sql"), text);
    try {
      wiki::read_sql_table(dir.file("bad.sql"), "t", [](const wiki::SqlRow& r) { r.column("nope"); });
      ADD_FAILURE() << "no error for " << text;
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("bad.sql"), std::string::npos) << e.what();
    }
  };
  fails(create + "INSERT INTO `t` VALUES (1,'x'", "ends inside a statement");
  fails(create + "INSERT INTO `t` VALUES (1,'x',3);", "a row of 3 values in a table of 2 columns");
  fails(create + "INSERT INTO `t` VALUES (1;", "unexpected ';'");
  fails("INSERT INTO `t` VALUES (1,'x');", "before the CREATE TABLE");
  fails(create + "INSERT INTO `t` VALUES (1,'x');", "has no column 'nope'");
  write_gz(dir.file("cut.sql.gz"), create + std::string(100000, ' '));
  std::string gz = test::read_file(dir.file("cut.sql.gz"));
  test::write_file(dir.file("cut.sql.gz"), gz.substr(0, gz.size() - 20));
  EXPECT_THROW(wiki::read_sql_table(dir.file("cut.sql.gz"), "t", [](const wiki::SqlRow&) {}), FormatError);
}

TEST(WikipediaCli, KilledBuildResumesAndEndsAsAnUninterruptedOne) {
  TempDir dir;
  // About 6 MB of plain XML: six chunks of 1 MiB, parsed by one thread.
  std::vector<TestPage> pages;
  std::mt19937 rng(7);
  const char* words[] = {"river", "city", "the", "of", "band", "album", "war", "north", "state", "school"};
  for (int i = 0; i < 1500; ++i) {
    std::string text = "'''Page " + std::to_string(i) + "''' is";
    for (int w = 0; w < 600; ++w)
      text += (w % 25 == 0) ? " [[Page " + std::to_string(rng() % 1500) + "|a " + words[rng() % 10] + "]]"
                            : std::string(" ") + words[rng() % 10];
    pages.push_back({"Page " + std::to_string(i), 10 + i, text + "."});
  }
  const std::string dump = write_dump(dir, "plain", pages);
  const std::string tool = NER4EL_TOOL;
  const std::string args = " kb build --from wikipedia " + dump + " --threads 1 --chunk-mib 1 --mentions " + dir.file("m.jsonl") +
                           " --work-dir " + dir.file("work") + " -o " + dir.file("kb");
  const pid_t pid = fork();
  if (pid == 0) {
    execl(tool.c_str(), tool.c_str(), "kb", "build", "--from", "wikipedia", dump.c_str(), "--threads", "1", "--chunk-mib", "1",
          "--mentions", dir.file("m.jsonl").c_str(), "--work-dir", dir.file("work").c_str(), "-o", dir.file("kb").c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 1500 && !fs::exists(dir.file("work/chunk-000000.done")); ++i) usleep(10000);
  ::kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(fs::exists(dir.file("work/chunk-000000.done")));
  ASSERT_FALSE(fs::exists(dir.file("kb"))) << "the build finished before the kill";
  EXPECT_FALSE(fs::exists(dir.file("m.jsonl")));
  std::string out;
  out.clear();  // test::run appends
  ASSERT_EQ(test::run(tool + args, &out), 0) << out;
  EXPECT_NE(out.find("done by an earlier run"), std::string::npos) << out;
  const std::string resumed = test::read_file(dir.file("m.jsonl"));
  out.clear();  // test::run appends
  ASSERT_EQ(test::run(tool + " kb build --from wikipedia " + dump + " --mentions " + dir.file("m2.jsonl") + " -o " + dir.file("kb2"), &out), 0)
      << out;
  EXPECT_EQ(resumed, test::read_file(dir.file("m2.jsonl")));
  std::string a, b;
  test::run(tool + " kb candidates " + dir.file("kb") + " 'a river'", &a);
  test::run(tool + " kb candidates " + dir.file("kb2") + " 'a river'", &b);
  EXPECT_EQ(a, b);
  EXPECT_GT(a.size(), 100u);
  // Usage: an unknown source and a missing dump are clear errors; --help lists the sources.
  out.clear();  // test::run appends
  EXPECT_EQ(test::run(tool + " kb build --from atlantis -o " + dir.file("x") + " 2>&1", &out), 1);
  EXPECT_NE(out.find("unknown source (expected one of: wordnet, wikipedia)"), std::string::npos) << out;
  out.clear();  // test::run appends
  EXPECT_EQ(test::run(tool + " kb build --from wikipedia " + dir.file("none.xml.bz2") + " -o " + dir.file("x") + " 2>&1", &out), 1);
  EXPECT_NE(out.find("none.xml.bz2: no such file"), std::string::npos) << out;
  out.clear();  // test::run appends
  EXPECT_EQ(test::run(tool + " kb build --from wikipedia -o " + dir.file("x") + " 2>&1", &out), 1);
  EXPECT_NE(out.find("needs the dump"), std::string::npos) << out;
  out.clear();  // test::run appends
  ASSERT_EQ(test::run(tool + " kb build --help", &out), 0);
  EXPECT_NE(out.find("'wikipedia': a Wikipedia pages-articles dump"), std::string::npos) << out;
  EXPECT_NE(out.find("--page-props"), std::string::npos) << out;
}

// ---------------------------------------------------------------------------------------------
// Real Wikipedia: gensim's test dumps (English: 206 pages of a 2017 enwiki-...-articles1 file, one
// bz2 stream; Bulgarian: 3 pages in UTF-16).

std::string sample(const std::string& name) {
  const std::string p = std::string(NER4EL_SOURCE_DIR) + "/samples/wikipedia/" + name;
  return fs::exists(p) ? p : "";
}

TEST(WikipediaReal, EnglishDumpPiece) {
  const std::string dump = sample("enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2");
  if (dump.empty()) GTEST_SKIP() << "samples/wikipedia missing: run scripts/install-deps";
  TempDir dir;
  WikipediaBuildOptions o;
  o.dump = dump;
  o.mentions = dir.file("mentions.jsonl");
  const auto rep = build_wikipedia_kb(o, dir.file("kb"));
  EXPECT_EQ(rep.site, "enwiki");
  EXPECT_EQ(rep.pages, 206u);
  EXPECT_EQ(rep.redirects, 99u);  // 100 <redirect>s, one of them outside the main namespace
  EXPECT_GT(rep.articles, 90u);
  EXPECT_GT(rep.links, 20000u);
  auto kb = KnowledgeBase::open(dir.file("kb"));
  auto anarchism = kb.entity(*kb.id_of_title("Anarchism"));
  ASSERT_TRUE(anarchism);
  EXPECT_EQ(anarchism->description.rfind("Anarchism is a political philosophy", 0), 0u) << anarchism->description;
  // No markup survives in any description.
  for (const char* title : {"Anarchism", "Autism", "Albedo", "A", "Alabama", "Achilles", "Abraham Lincoln", "Aristotle"}) {
    auto id = kb.id_of_title(title);
    ASSERT_TRUE(id) << title;
    const std::string d = kb.entity(*id)->description;
    EXPECT_GT(d.size(), 40u) << title;
    for (const char* mark : {"{{", "}}", "[[", "]]", "<ref", "'''", "&amp;", "|", "<!--"})
      EXPECT_EQ(d.find(mark), std::string::npos) << title << ": " << mark << " in " << d;
  }
  // Redirects among the dump's own pages resolve: AfghanistanHistory -> History of Afghanistan is
  // outside this piece, but "AccessibleComputing" etc. are redirects, never entities.
  EXPECT_FALSE(kb.id_of_title("AccessibleComputing"));
  EXPECT_EQ(titles_of(kb, "anarchism").front(), "Anarchism");
  auto rows = read_jsonl(o.mentions);
  EXPECT_EQ(rows.size(), rep.mentions);
  EXPECT_GT(rows.size(), 100u);  // most links leave this piece of 206 pages
  for (const auto& r : rows) {
    ASSERT_TRUE(kb.id_of_title(r["output"].get<std::string>())) << r.dump();
    EXPECT_FALSE(r["mention"].get<std::string>().empty());
  }
}

TEST(WikipediaReal, BulgarianDumpPieceInUtf16) {
  const std::string dump = sample("bgwiki-latest-pages-articles-shortened.xml.bz2");
  if (dump.empty()) GTEST_SKIP() << "samples/wikipedia missing: run scripts/install-deps";
  TempDir dir;
  WikipediaBuildOptions o;
  o.dump = dump;
  o.lang = "bg";
  const auto rep = build_wikipedia_kb(o, dir.file("kb"));
  EXPECT_EQ(rep.site, "bgwiki");
  EXPECT_EQ(rep.pages, 3u);
  EXPECT_EQ(rep.other_namespaces, 2u);  // the two "Уикипедия:" pages
  EXPECT_EQ(rep.articles, 1u);
  auto kb = KnowledgeBase::open(dir.file("kb"));
  auto id = kb.id_of_title("Григориански календар");
  ASSERT_TRUE(id);
  const std::string d = kb.entity(*id)->description;
  EXPECT_NE(d.find("календар"), std::string::npos) << d;
  EXPECT_EQ(d.find("[["), std::string::npos) << d;
  EXPECT_EQ(titles_of(kb, "григориански календар"), (Titles{"Григориански календар"}));
  o.lang = "de";
  EXPECT_THROW(build_wikipedia_kb(o, dir.file("kb2")), InvalidArgument);
}

}  // namespace
}  // namespace ner4el
