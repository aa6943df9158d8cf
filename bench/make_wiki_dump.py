#!/usr/bin/env python3
"""Writes a synthetic Wikipedia pages-articles dump for bench/wiki_dump.sh: a multistream .xml.bz2
(100 pages a bz2 stream, as Wikimedia's) and its index, at any scale.

The pages imitate English Wikipedia's mix (by share of pages in a 2024 enwiki pages-articles file:
about 40% articles, 50% redirects, 2% disambiguation pages, the rest other namespaces) and its
articles' wikitext (about 6 KB: an infobox, references, a table, headings, lists, categories, files,
interlanguage links and about 40 internal links, piped and plain, to other pages of the dump).
Deterministic for a given seed. Usage: make_wiki_dump.py PAGES OUT_DIR [--seed 1]
"""
import argparse
import bz2
import os
import random

WORDS = ("the of and in to a was is for on as by with he that at from his it an were are which this also be has or had "
         "first one their its new after but who not they have her she two been other when there all during into school "
         "time may years more most only over city some world would where later up such used many can state about national "
         "out known university united then made could states because county however team war being district well several "
         "century american part government three between under both early series including government river north south "
         "population area region music album band film river station company").split()


def sentence(rng, links, n=18):
    out = []
    for _ in range(n):
        if links and rng.random() < 0.12:
            t = rng.choice(links)
            r = rng.random()
            if r < 0.5:
                out.append(f"[[{t}]]")
            elif r < 0.9:
                out.append(f"[[{t}|{rng.choice(WORDS)} {rng.choice(WORDS)}]]")
            else:
                out.append(f"[[{t}]]s")
        else:
            out.append(rng.choice(WORDS))
    s = " ".join(out)
    return s[0].upper() + s[1:] + "."


def article(rng, title, links):
    ref = lambda: f"<ref>{{{{cite web|url=https://example.org/{rng.randrange(10**6)}|title={rng.choice(WORDS)}}}}}</ref>"
    parts = [
        "{{Short description|" + " ".join(rng.choice(WORDS) for _ in range(4)) + "}}",
        "{{Infobox settlement\n| name = " + title + "\n| population = {{formatnum:" + str(rng.randrange(10**7)) +
        "}}\n| image = [[File:" + title + ".jpg|thumb|" + rng.choice(WORDS) + "]]\n}}",
        f"'''{title}''' ({{{{IPA|en|{rng.choice(WORDS)}}}}}) is " + sentence(rng, links).lower() + ref() + " " + sentence(rng, links),
        "",
    ]
    for h in range(3):
        parts.append(f"== {rng.choice(WORDS).title()} {h} ==")
        for _ in range(4):
            parts.append(" ".join(sentence(rng, links) + (ref() if rng.random() < 0.3 else "") for _ in range(3)))
            parts.append("")
        parts.append("* " + sentence(rng, links, 8) + "\n* " + sentence(rng, links, 8))
    parts.append('{| class="wikitable"\n|-\n! Year !! Event\n|-\n| 1999 || ' + sentence(rng, links, 6) + "\n|}")
    parts.append("== References ==\n{{reflist}}")
    parts.append(f"[[Category:{rng.choice(WORDS).title()} places]]\n[[de:{title}]]\n[[fr:{title}]]")
    return "\n".join(parts)


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def page(title, pid, ns, text, redirect=None):
    red = f'    <redirect title="{esc(redirect)}" />\n' if redirect else ""
    return (f"  <page>\n    <title>{esc(title)}</title>\n    <ns>{ns}</ns>\n    <id>{pid}</id>\n{red}    <revision>\n"
            f"      <id>{pid * 7}</id>\n      <model>wikitext</model>\n      <format>text/x-wiki</format>\n"
            f'      <text bytes="{len(text)}" xml:space="preserve">{esc(text)}</text>\n    </revision>\n  </page>\n')


HEAD = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">
  <siteinfo>
    <sitename>Wikipedia</sitename>
    <dbname>enwiki</dbname>
    <case>first-letter</case>
    <namespaces>
      <namespace key="-2" case="first-letter">Media</namespace>
      <namespace key="0" case="first-letter" />
      <namespace key="4" case="first-letter">Wikipedia</namespace>
      <namespace key="6" case="first-letter">File</namespace>
      <namespace key="10" case="first-letter">Template</namespace>
      <namespace key="14" case="first-letter">Category</namespace>
    </namespaces>
  </siteinfo>
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pages", type=int)
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    n_articles = max(1, int(a.pages * 0.40))
    articles = [f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {i}" for i in range(n_articles)]
    os.makedirs(a.out_dir, exist_ok=True)
    dump = os.path.join(a.out_dir, "synthetic-pages-articles-multistream.xml.bz2")
    index = os.path.join(a.out_dir, "synthetic-pages-articles-multistream-index.txt")
    xml_bytes = 0
    with open(dump + ".tmp", "wb") as f, open(index + ".tmp", "w") as idx:
        f.write(bz2.compress(HEAD.encode()))
        xml_bytes += len(HEAD)
        group, ids = [], []
        art = 0
        for pid in range(1, a.pages + 1):
            r = rng.random()
            if r < 0.40 and art < n_articles:
                title = articles[art]
                art += 1
                links = [articles[rng.randrange(n_articles)] for _ in range(40)]
                group.append(page(title, pid, 0, article(rng, title, links)))
            elif r < 0.90:
                target = articles[rng.randrange(n_articles)]
                title = f"{target} ({rng.choice(WORDS)} {pid})"
                group.append(page(title, pid, 0, f"#REDIRECT [[{target}]]\n{{{{R from alternative name}}}}", target))
            elif r < 0.92:
                base = rng.choice(articles)
                text = f"'''{base}''' may refer to:\n" + "\n".join(
                    f"* [[{articles[rng.randrange(n_articles)]}]], a {rng.choice(WORDS)}" for _ in range(6)) + "\n{{disambiguation}}"
                group.append(page(f"{base} (disambiguation {pid})", pid, 0, text))
            else:
                title = f"Wikipedia:Project page {pid}"
                group.append(page(title, pid, 4, sentence(rng, articles[:50])))
            ids.append((pid, title))
            if len(group) == 100 or pid == a.pages:
                offset = f.tell()
                data = "".join(group).encode()
                xml_bytes += len(data)
                f.write(bz2.compress(data))
                for p, t in ids:
                    idx.write(f"{offset}:{p}:{t}\n")
                group, ids = [], []
        f.write(bz2.compress(b"</mediawiki>\n"))
    os.replace(dump + ".tmp", dump)
    os.replace(index + ".tmp", index)
    print(f"{dump}: {a.pages} pages, {xml_bytes / 2**20:.1f} MiB of XML, {os.path.getsize(dump) / 2**20:.1f} MiB of bz2")


if __name__ == "__main__":
    main()
