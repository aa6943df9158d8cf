"""The ner4el entity linker as a spaCy pipeline component.

    import spacy
    nlp = spacy.load("en_core_web_sm")                     # any pipeline with an NER, or spacy.blank("en")
    nlp.add_pipe("ner4el_linker", config={"kb": "out/wordnet-kb", "index": "out/wordnet-index"})
    doc = nlp("Troy fell after Paris abducted Helen of Sparta.")
    [(ent.text, ent.kb_id_, ent._.ner4el_score) for ent in doc.ents]

The component is registered through the ``spacy_factories`` entry point, so ``add_pipe`` finds it
without importing ner4el first. For each entity it sets ``ent.kb_id_`` (the entity's title in the
knowledge base, as spaCy's own EntityLinker sets its KB identifier on the tokens), and the span
extensions ``ent._.ner4el_score`` (the linker's score of that entity), ``ent._.ner4el_id`` (its id
in the KB) and ``ent._.ner4el_candidates`` (the best ``top`` candidates as ``[title, score]`` pairs,
best first). Entities without a candidate keep an empty ``kb_id_`` and None.

Which mentions it links (``mentions``):
  - ``"ents"``: ``doc.ents`` as an upstream recogniser set them (spaCy's ``ner``, an
    ``entity_ruler``, ...), except the labels in ``labels_discard`` (dates, numbers, amounts);
  - ``"spotter"``: ner4el's mention detection over the KB's aliases; the spans it
    finds that do not overlap an existing entity are added to ``doc.ents`` with the entity's NER
    class in the KB (``label`` when it has none);
  - ``"tagger"``: ner4el's NER tagger (CoNLL-2003's PER, LOC, ORG, MISC); its spans are added to
    ``doc.ents`` with the tagger's class, linked or not (an unlinked one keeps an empty ``kb_id_``:
    NIL), and the class constrains the linker when ``ner_cd`` is set;
  - ``"both"``: the tagger's spans, then the spotter's that overlap none of them;
  - ``"detect"``: the pipeline's own detection (the tagger when it is installed, else the spotter);
  - ``"auto"`` (default): ``"ents"`` when a component before this one assigns ``doc.ents``, else
    ``"detect"``.
Leading articles and possessives ("the United States", "Germany's") do not stop a span from linking.
``nlp.pipe`` links the mentions of ``batch_size`` documents in one call of the C++ core.
"""
# No `from __future__ import annotations` here: spaCy validates the factory's arguments from their
# annotations, which must be real types.
from typing import Iterable, Iterator, List, Optional

from spacy.language import Language
from spacy.tokens import Doc, Span

from . import Pipeline

# spaCy's numeric and temporal entity types, which name no entity of a knowledge base.
DEFAULT_LABELS_DISCARD = ["DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"]

for _name in ("ner4el_score", "ner4el_id", "ner4el_candidates"):
    if not Span.has_extension(_name):
        Span.set_extension(_name, default=None)


@Language.factory(
    "ner4el_linker",
    assigns=["token.ent_kb_id", "doc.ents", "span._.ner4el_score", "span._.ner4el_id", "span._.ner4el_candidates"],
    default_config={
        "kb": "",
        "model": "",
        "index": "",
        "ner_model": "",
        "tagger": "",
        "ner_cd": False,
        "dtype": "auto",
        "threads": 0,
        "k": 40,
        "top": 5,
        "mentions": "auto",
        "labels_discard": DEFAULT_LABELS_DISCARD,
        "threshold": 0.5,
        "label": "ENTITY",
        "batch_size": 64,
    },
)
def make_ner4el_linker(
    nlp: Language,
    name: str,
    kb: str,
    model: str,
    index: str,
    ner_model: str,
    tagger: str,
    ner_cd: bool,
    dtype: str,
    threads: int,
    k: int,
    top: int,
    mentions: str,
    labels_discard: List[str],
    threshold: float,
    label: str,
    batch_size: int,
) -> "Ner4elLinker":
    if not kb:
        raise ValueError(
            'ner4el_linker needs a knowledge base: nlp.add_pipe("ner4el_linker", config={"kb": "path/to/kb"}) '
            "(make one with 'ner4el kb build --from wordnet -o out/wordnet-kb')"
        )
    if mentions not in ("auto", "ents", "detect", "spotter", "tagger", "both"):
        raise ValueError("ner4el_linker: mentions must be 'auto', 'ents', 'detect', 'spotter', 'tagger' or 'both', "
                         f"got {mentions!r}")
    if mentions == "auto":
        upstream = any("doc.ents" in nlp.get_pipe_meta(p).assigns for p in nlp.pipe_names)
        mentions = "ents" if upstream else "detect"
    pipeline = Pipeline(kb, model=model, index=index, ner_model=ner_model, dtype=dtype, threads=threads, k=k,
                        top=top, threshold=threshold, ner_cd=ner_cd, tagger=tagger,
                        mentions=mentions if mentions in ("spotter", "tagger", "both") else
                        "auto" if mentions == "detect" else "spotter")
    return Ner4elLinker(pipeline, name=name, mentions=mentions, labels_discard=labels_discard, label=label,
                        batch_size=batch_size)


class Ner4elLinker:
    """Links a Doc's entities to the knowledge base of a ner4el Pipeline (see the module's help)."""

    def __init__(self, pipeline: Pipeline, *, name: str = "ner4el_linker", mentions: str = "ents",
                 labels_discard: Optional[Iterable[str]] = None, label: str = "ENTITY", batch_size: int = 64):
        if batch_size < 1:
            raise ValueError(f"ner4el_linker: batch_size must be at least 1, got {batch_size}")
        self.pipeline = pipeline
        self.name = name
        self.mentions = mentions
        self.labels_discard = set(DEFAULT_LABELS_DISCARD if labels_discard is None else labels_discard)
        self.label = label
        self.batch_size = batch_size

    def __call__(self, doc: Doc) -> Doc:
        self._link([doc])
        return doc

    def pipe(self, stream: Iterable[Doc], batch_size: Optional[int] = None) -> Iterator[Doc]:
        size = batch_size or self.batch_size
        batch: List[Doc] = []
        for doc in stream:
            batch.append(doc)
            if len(batch) >= size:
                self._link(batch)
                yield from batch
                batch = []
        if batch:
            self._link(batch)
            yield from batch

    # -- internals --

    def _link(self, docs: List[Doc]) -> None:
        if self.mentions in ("detect", "spotter", "tagger", "both"):
            self._detect_and_link(docs)
            return
        chosen = [[e for e in doc.ents if e.label_ not in self.labels_discard] for doc in docs]
        linked = self.pipeline.link_spans([d.text for d in docs], [[(e.start_char, e.end_char) for e in ents]
                                                                    for ents in chosen],
                                          batch_size=len(docs))
        for doc, ents, results in zip(docs, chosen, linked):
            by_offsets = {}
            for ent, result in zip(ents, results):
                if result.title is not None:
                    for token in ent:
                        token.ent_kb_id_ = result.title
                by_offsets[(ent.start_char, ent.end_char)] = result
            self._set_extensions(doc, by_offsets)

    def _detect_and_link(self, docs: List[Doc]) -> None:
        mode = None if self.mentions == "detect" else self.mentions  # (None: the pipeline's own)
        annotated = self.pipeline.annotate([d.text for d in docs], batch_size=len(docs), mentions=mode)
        for doc, found in zip(docs, annotated):
            taken = [(e.start_char, e.end_char) for e in doc.ents]
            new_spans = []
            by_offsets = {}
            for entity in found:
                span = doc.char_span(entity.start, entity.end, label=entity.type or entity.ner_class or self.label,
                                     kb_id=entity.title or "", alignment_mode="expand")
                if span is None or (entity.title is None and entity.type is None):
                    continue  # (the tagger's unlinked spans stay: NIL entities)
                if any(span.start_char < e and s < span.end_char for s, e in taken):
                    continue
                taken.append((span.start_char, span.end_char))
                new_spans.append(span)
                by_offsets[(span.start_char, span.end_char)] = entity
            if new_spans:
                doc.ents = sorted(list(doc.ents) + new_spans, key=lambda s: s.start)
            self._set_extensions(doc, by_offsets)

    @staticmethod
    def _set_extensions(doc: Doc, by_offsets: dict) -> None:
        # Extension values are keyed by the span's label and kb_id as well as its offsets, so they are
        # set on the spans doc.ents gives once kb_id is in place.
        for ent in doc.ents:
            result = by_offsets.get((ent.start_char, ent.end_char))
            if result is None or result.title is None:
                continue
            ent._.ner4el_score = result.score
            ent._.ner4el_id = result.entity_id
            ent._.ner4el_candidates = [[c.title, c.score] for c in result.candidates]  # lists: as msgpack gives them back
