"""The Wikipedia importer's links against mwparserfromhell, the wikitext parser of Python's
Wikipedia tools, on real English Wikipedia (gensim's shortened enwiki dump, samples/wikipedia).

For every article, the internal links that `ner4el wikitext` finds in the prose must be the ones
mwparserfromhell's parse tree has in the prose: wikilinks to main-namespace pages that are not inside
templates, references and other non-prose tags, tables, headings, file captions or comments.
"""
import bz2
import json
import os
import re
import xml.etree.ElementTree as ET

import mwparserfromhell
import pytest
from mwparserfromhell.nodes import Comment, Heading, Tag, Template, Text, Wikilink

from conftest import run_tool

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DUMP = os.path.join(ROOT, "samples", "wikipedia", "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")

NAMESPACES = {"media", "special", "talk", "user", "user talk", "wikipedia", "wikipedia talk", "file", "file talk", "mediawiki",
              "mediawiki talk", "template", "template talk", "help", "help talk", "category", "category talk", "portal",
              "portal talk", "draft", "draft talk", "module", "module talk", "image", "wp", "book", "book talk",
              "timedtext", "timedtext talk", "education program", "education program talk", "gadget", "gadget talk",
              "gadget definition", "gadget definition talk", "topic"}
INTERWIKI = {"wikt", "wiktionary", "w", "wikipedia", "commons", "c", "s", "wikisource", "q", "wikiquote", "b", "wikibooks",
             "n", "wikinews", "v", "wikiversity", "voy", "wikivoyage", "species", "wikispecies", "d", "wikidata", "m",
             "meta", "metawiki", "mw", "mediawikiwiki", "foundation", "wmf", "phab", "outreach", "incubator", "doi",
             "iarchive", "google"}
# Tags whose content is prose (walked into); every other tag (ref, math, table, gallery, ...) is not.
PROSE_TAGS = {"b", "i", "u", "s", "small", "big", "sup", "sub", "span", "div", "center", "font", "abbr", "blockquote", "p",
              "cite", "code", "em", "strong", "tt", "var", "del", "ins", "li", "ul", "ol", "dl", "dd", "dt", "onlyinclude",
              "noinclude"}


def normalise(title):
    t = re.sub(r"[ _]+", " ", title.split("#")[0]).strip()
    return t[:1].upper() + t[1:] if t else t


def is_article_link(title):
    t = str(title).strip()
    if t.startswith(":"):
        t = t[1:]
    if ":" in t:
        prefix = t.split(":", 1)[0].strip().lower().replace("_", " ")
        if prefix in NAMESPACES or prefix in INTERWIKI:
            return False
        if re.fullmatch(r"[a-z-]{1,12}", prefix) and prefix == t.split(":", 1)[0].strip():
            return False  # interlanguage
    return bool(normalise(t)) and not re.search(r"[<>\[\]{}|]", t)


def prose_links(code):
    """Wikilinks of the prose, in order."""
    out = []
    for node in code.nodes:
        if isinstance(node, Wikilink):
            if is_article_link(node.title):
                out.append(normalise(str(node.title).strip().lstrip(":")))
        elif isinstance(node, Tag):
            tag = str(node.tag).lower()
            if node.wiki_markup in ("''", "'''") or tag in PROSE_TAGS:
                if node.contents is not None:
                    out.extend(prose_links(node.contents))
        # Templates, headings, comments, external links, other tags: not prose.
    return out


def articles():
    with bz2.open(DUMP) as f:
        page = {}
        for _, e in ET.iterparse(f):
            tag = e.tag.rsplit("}", 1)[-1]
            if tag in ("title", "ns", "text"):
                page[tag] = e.text or ""
            elif tag == "redirect":
                page["redirect"] = True
            elif tag == "page":
                if page.get("ns") == "0" and not page.get("redirect"):
                    yield page["title"], page["text"]
                page = {}
                e.clear()


@pytest.mark.skipif(not os.path.exists(DUMP), reason="samples/wikipedia missing: run scripts/install-deps")
def test_links_match_mwparserfromhell_on_real_wikipedia():
    ours = {}
    for line in run_tool("wikitext", DUMP).stdout.decode().splitlines():
        j = json.loads(line)
        ours[j["title"]] = [l["target"] for l in j["links"]]
        for l in j["links"]:  # offsets are Python str offsets into the text
            assert 0 <= l["start"] < l["end"] <= len(j["text"])
        assert "{{" not in j["description"] and "[[" not in j["description"] and "<ref" not in j["description"]
    theirs = {normalise(title): prose_links(mwparserfromhell.parse(text)) for title, text in articles()}
    assert set(ours) == set(theirs)
    same_pages = sum(ours[t] == theirs[t] for t in theirs)
    total = sum(len(v) for v in theirs.values())
    # Links in the same order: count the longest common subsequence per page.
    def lcs(a, b):
        prev = [0] * (len(b) + 1)
        for x in a:
            cur = [0]
            for j, y in enumerate(b):
                cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
            prev = cur
        return prev[-1]
    common = sum(lcs(ours[t], theirs[t]) for t in theirs)
    extra = sum(len(ours[t]) for t in theirs) - common
    print(f"{len(theirs)} articles, {same_pages} with identical link lists; {total} reference links, {common} found in "
          f"order ({common / total:.2%}), {extra} extra")
    # Measured: 99.6% found, 0.9% extra, 96 of 106 pages identical. The differences are tables that
    # mwparserfromhell leaves as text when their markup is malformed (MediaWiki still renders them
    # as tables, which the importer drops) and links inside unclosed formatting.
    assert common / total >= 0.99
    assert extra / total <= 0.015
    assert same_pages / len(theirs) >= 0.85
