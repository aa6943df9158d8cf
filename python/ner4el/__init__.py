"""ner4el: entity linking with NER (NER4EL, EMNLP 2021 Findings), a C++ core with Python bindings.

    >>> import ner4el
    >>> nlp = ner4el.Pipeline("out/wordnet-kb", index="out/wordnet-index")
    >>> nlp.annotate("Troy fell after Paris abducted Helen of Sparta.")
    [Entity(0, 4, 'Troy' -> 'Troy'), Entity(16, 21, 'Paris' -> 'Paris (mythical being)'), ...]

Offsets are Python str indices. The spaCy component is ``nlp.add_pipe("ner4el_linker")`` (see
``ner4el.spacy_linker``); it needs spaCy, which this package does not require.
"""
from __future__ import annotations

from typing import Iterable, Optional, Sequence, Tuple, Union, overload

from . import _core
from ._core import Candidate, Entity, LinkResult, Mention, Tagger, set_threads
from .errors import Error, FormatError, InvalidArgument, NotFoundError

__version__: str = _core.__version__

__all__ = [
    "Pipeline",
    "Tagger",
    "Mention",
    "Candidate",
    "LinkResult",
    "Entity",
    "Error",
    "FormatError",
    "InvalidArgument",
    "NotFoundError",
    "set_threads",
    "__version__",
]

Span = Tuple[int, int]


class Pipeline(_core.Pipeline):
    """A knowledge base, a linker and mention detection, opened together.

    ``Pipeline(kb, *, model="", index="", vocab="", ner_model="", dtype="auto", device="cpu", style="auto", k=40,
    top=5, prior_weight=None, rank_weight=None, ner_cd=False, ner_cg=False, threshold=0.5,
    require_capital=True, threads=0, mentions="auto", tagger="")``

    - ``kb``: a knowledge-base directory made by ``ner4el kb build``.
    - ``model``: ``""`` for the installed pretrained encoder with its fitted prior weights,
      ``"prior"`` for the count prior, or a trained linker (ner4el folder, NER4EL ``.ckpt``,
      Hugging Face folder).
    - ``index``: entity vectors from ``ner4el index`` made with the same model (else entities are
      encoded on first use).
    - ``mentions``: how ``annotate`` finds mentions: ``"spotter"`` (the KB's aliases), ``"tagger"``
      (the NER tagger: typed spans, ``Entity.type``; a span the KB cannot link is kept with title
      None: NIL), ``"both"``, or ``"auto"`` (default: the tagger when it is installed, else the
      spotter); ``tagger``: a tagger folder (``""``: the shipped CoNLL-2003 one).

    Every method releases the GIL while it links, and one Pipeline may serve many threads.
    Errors are ``ner4el.Error`` subclasses carrying the C++ message: ``NotFoundError`` (also a
    ``FileNotFoundError``), ``FormatError`` and ``InvalidArgument`` (also ``ValueError``).
    """

    @overload
    def annotate(self, texts: str, **options) -> list[Entity]: ...
    @overload
    def annotate(self, texts: Iterable[str], **options) -> list[list[Entity]]: ...

    def annotate(self, texts, **options):
        """Finds and links the mentions of a text (a list of Entity) or of each of many texts (a list of
        lists; ``batch_size`` texts are linked together, default 32).

        Options for this call: ``k``, ``top``, ``ner_cd``, ``threshold`` (detection score),
        ``require_capital`` (False also spots lower-case aliases), ``batch_size``, ``mentions``
        (``"spotter"``, ``"tagger"``, ``"both"``)."""
        if isinstance(texts, str):
            return super().annotate([texts], **options)[0]
        return super().annotate(list(texts), **options)

    @overload
    def link_spans(self, texts: str, spans: Sequence[Span], **options) -> list[Entity]: ...
    @overload
    def link_spans(self, texts: Sequence[str], spans: Sequence[Sequence[Span]], **options) -> list[list[Entity]]: ...

    def link_spans(self, texts, spans, **options):
        """Links spans someone else found (REL's ED mode): ``link_spans(text, [(start, end), ...])``
        gives an Entity per span; ``link_spans([text, ...], [[(start, end), ...], ...])`` a list per
        text. Offsets are Python str indices, end exclusive."""
        if isinstance(texts, str):
            return super().link_spans([texts], [list(spans)], **options)[0]
        return super().link_spans(list(texts), [list(s) for s in spans], **options)

    def __call__(self, texts: Union[str, Iterable[str]], **options):
        """Same as annotate()."""
        return self.annotate(texts, **options)

    def __repr__(self) -> str:
        return f"ner4el.Pipeline({self.description}, {self.entities} entities)"

