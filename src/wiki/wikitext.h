// Wikitext to plain text, with the internal links' spans (internal; the Wikipedia importer).
//
// Removed: comments; templates and parser functions ({{...}}, nested) and template parameters;
// tables ({| ... |}, nested); <ref> and the other tags whose content is not prose (math, gallery,
// timeline, syntaxhighlight, ...); file, image and category links (with their captions);
// interlanguage links; headings; behaviour switches (__TOC__); bold and italic quotes; list and
// indent markers; the tags of the remaining HTML. Kept: the text of internal links (with the link
// trail: [[bus]]es -> "buses"), of external links with a label, of <nowiki>; character entities
// decoded; white space collapsed; brackets left empty by the removals dropped ("Paris ( ; )").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace ner4el::wiki {

/// What the dump's siteinfo says that the text conversion needs.
struct SiteInfo {
  /// Lower-cased names of every namespace but the main one (with the usual English aliases
  /// "image", "file", "category" added), so [[Kategorie:X]] is a category link in German.
  std::unordered_set<std::string> namespaces;
  /// The names of the namespaces whose links are dropped whole: file/media and category.
  std::unordered_set<std::string> dropped_namespaces;
  bool first_letter_case = true;  ///< siteinfo <case>first-letter</case>: titles' first letter is upper
  std::string dbname;             ///< "enwiki"

  /// English's defaults (a dump without siteinfo).
  static SiteInfo english();
};

struct Link {
  size_t begin = 0, end = 0;  ///< bytes of the plain text
  std::string target;         ///< as written, fragment (#...) removed, not normalised
};

struct PlainText {
  std::string text;  ///< paragraphs separated by '\n'
  std::vector<Link> links;
};

/// Converts a page's wikitext. Linear in the input; nesting is bounded (deeper constructs are
/// removed as a whole).
PlainText to_plain_text(std::string_view wikitext, const SiteInfo& site);

/// The first paragraph with prose in it (at least one letter and 20 bytes), or "".
std::string first_paragraph(const PlainText& text);

/// A title as MediaWiki stores it: underscores as spaces, spaces collapsed and trimmed, the
/// first letter upper-cased when the site says so (ASCII and the common Latin, Greek and Cyrillic
/// letters); "" for an empty title.
std::string normalise_title(std::string_view title, const SiteInfo& site);

}  // namespace ner4el::wiki
