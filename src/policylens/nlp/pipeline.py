"""Building the tagging pipeline and running it over documents.

``load_pipeline`` assembles (and caches, per process) a spaCy pipeline::

    policylens_sentences -> policylens_lemmas (spaCy's lookup lemmas) -> policylens_facets
        -> policylens_cues -> policylens_governance (content) -> policylens_role
        -> policylens_scope

(with ``role_model="encoder"``, ``policylens_role_encoder`` after ``policylens_role``:
the opt-in encoder role mode, ``role_encoder.py``).

``tag`` runs it over a ``Document``'s body blocks (each block segmented on its
own, a heading block is one sentence, each block told the text before it and
its section heading), decides the document's scope once from all its sentences
(or takes the caller's ``scope``), and composes each sentence's label from
scope, role and content by the codebook's procedure (``procedure.py``).
A model folder without ``role.json``/``scope.json`` (a v1 model) tags by content alone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from policylens.errors import ModelError
from policylens.extract.document import Block, Document
from policylens.labels import LABELS, Label
from policylens.nlp import cues as _cues  # noqa: F401  (registers the factory)
from policylens.nlp import governance as _governance
from policylens.nlp import lemmas as _lemmas  # noqa: F401  (registers the factory)
from policylens.nlp import role as _role
from policylens.nlp import role_encoder as _role_encoder
from policylens.nlp import scope as _scope
from policylens.nlp import segment as _segment
from policylens.nlp.cues import cues_by_sentence
from policylens.nlp.facets import FACTORY_NAME as _FACETS
from policylens.nlp.facets import sentence_facets
from policylens.nlp.fork import run_chunks
from policylens.nlp.model import CUES_DIR, resolve_model_dir
from policylens.nlp.procedure import compose
from policylens.nlp.types import UNKNOWN_SCOPE, Facets, ScopeDecision, TaggedDocument, TaggedSentence

#: Blocks longer than this many characters are cut (at whitespace) before spaCy sees them:
#: spaCy refuses texts over ``nlp.max_length`` and long texts cost memory, not accuracy.
MAX_CHUNK_CHARS = 100_000
BATCH_SIZE = 128

def build_pipeline(model: str | Path | None = None, *, spacy_model: str | None = None,
                   classifier: bool = True, role_model: str = "linear",
                   encoder_dir: str | Path | None = None) -> Language:
    """A fresh (uncached) pipeline; ``classifier=False`` stops before the model (training).

    ``role_model="encoder"`` adds the encoder role mode (``role_encoder.py``; needs the
    ``policylens[encoder]`` extra and the pinned MiniLM package), read from ``encoder_dir``
    (default: the bundled ``models/role_encoder``).
    """
    if role_model not in _role_encoder.ROLE_MODES:
        raise ModelError(f"unknown role model {role_model!r} (one of {', '.join(_role_encoder.ROLE_MODES)})")
    model_dir = resolve_model_dir(model) if classifier or model is not None else None
    if spacy_model:
        try:
            nlp = spacy.load(spacy_model, exclude=["ner", "textcat"])
        except OSError as exc:
            raise ModelError(f"spaCy model {spacy_model!r} is not installed "
                             f"(python -m spacy download {spacy_model}): {exc}") from None
        nlp.add_pipe("policylens_sentences", first=True)
    else:
        nlp = spacy.blank("en")
        nlp.add_pipe("policylens_sentences")
        nlp.add_pipe("policylens_lemmas")  # spaCy's lookup lemmas, loaded and applied faster
        nlp.initialize()
    nlp.add_pipe(_FACETS)
    cue_dir = model_dir / CUES_DIR if model_dir is not None and (model_dir / CUES_DIR).is_dir() else None
    nlp.add_pipe("policylens_cues", config={"patterns_dir": str(cue_dir) if cue_dir else None})
    if classifier:
        assert model_dir is not None
        nlp.add_pipe("policylens_governance", config={"model": str(model_dir)})
        if (model_dir / _role.ROLE_FILE).is_file():
            nlp.add_pipe("policylens_role", config={"model": str(model_dir)})
            if role_model == "encoder":
                nlp.add_pipe(_role_encoder.FACTORY,
                             config={"model": str(encoder_dir) if encoder_dir is not None else None})
        elif role_model == "encoder":
            raise ModelError(f"{model_dir} has no role model ({_role.ROLE_FILE}) for the encoder to refine")
        if (model_dir / _scope.SCOPE_FILE).is_file():
            nlp.add_pipe("policylens_scope", config={"model": str(model_dir)})
    return nlp


@lru_cache(maxsize=4)
def _cached(model: str | None, spacy_model: str | None, role_model: str) -> Language:
    return build_pipeline(model, spacy_model=spacy_model, role_model=role_model)


def load_pipeline(model: str | Path | None = None, *, spacy_model: str | None = None,
                  role_model: str = "linear") -> Language:
    """The tagging pipeline for ``model`` (a folder; default: the bundled model), cached per process;
    ``role_model="encoder"``: the encoder role mode (``build_pipeline``)."""
    key = str(resolve_model_dir(model).resolve())
    return _cached(key, spacy_model, role_model)


def model_version(nlp: Language) -> str:
    """The version of the pipeline's models: the content model's, or one hash of all three."""
    versions = [getattr(nlp.get_pipe(name), "model").version for name in  # noqa: B009 - spaCy types pipes as callables
                ("policylens_governance", "policylens_role", "policylens_scope", _role_encoder.FACTORY)
                if name in nlp.pipe_names]
    if len(versions) == 1:
        return str(versions[0])
    return hashlib.sha256("/".join(versions).encode()).hexdigest()[:12]


# --- tagging ------------------------------------------------------------------------

def _chunks(text: str) -> Iterator[str]:
    """``text`` in pieces of at most ``MAX_CHUNK_CHARS``, cut at whitespace when possible."""
    while len(text) > MAX_CHUNK_CHARS:
        cut = text.rfind(" ", MAX_CHUNK_CHARS // 2, MAX_CHUNK_CHARS)
        cut = cut if cut > 0 else MAX_CHUNK_CHARS
        yield text[:cut]
        text = text[cut:].lstrip()
    if text.strip():
        yield text


def _clean(text: str) -> str:
    """Text spaCy can hash: lone surrogates (from undecodable bytes) and NULs replaced."""
    if text.isascii():
        return text.replace("\x00", " ")
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", " ")


#: Characters of the previous block that the role model sees as a block's "previous sentence".
CONTEXT_CHARS = 300


def _contexts(blocks: Iterable[Block]) -> Iterator[tuple[Block, str, str]]:
    """``(block, chunk, prev)`` for each chunk of each block: ``prev`` is the text just before it."""
    prev = ""
    for block in blocks:
        for chunk in _chunks(_clean(block.text)):
            yield block, chunk, prev
            prev = chunk[-CONTEXT_CHARS:]


def _make_doc(nlp: Language, block: Block, chunk: str, prev: str) -> Doc:
    """A chunk's doc, a heading flagged as one sentence, told its context (``role.CONTEXT``)."""
    doc = nlp.make_doc(chunk)
    if block.kind == "heading":
        doc.user_data[_segment.HEADING_FLAG] = True
    doc.user_data[_role.CONTEXT] = {"prev": prev, "section": block.section or ""}
    doc.user_data[_role.TEXT] = chunk
    return doc


def _docs(nlp: Language, blocks: Iterable[Block]) -> Iterator[tuple[Block, Doc]]:
    """``(block, doc)`` for each chunk of each block, headings flagged as one sentence, each doc
    told the text just before it and its section heading (``role.CONTEXT``)."""
    for block, chunk, prev in _contexts(blocks):
        yield block, _make_doc(nlp, block, chunk, prev)


#: A document is split across worker processes only from this many characters on (about
#: 15,000 words): below it, forking and returning the sentences cost more than they save.
SPLIT_MIN_CHARS = 100_000


def tag_blocks(blocks: Iterable[Block], *, source: str, nlp: Language, title: str = "",
               scope: str | ScopeDecision | None = None,
               workers: int = 1) -> tuple[list[TaggedSentence], ScopeDecision]:
    """Tag blocks in reading order: one ``TaggedSentence`` per sentence, and the document's scope.

    ``scope`` overrides the scope model (a scope name, recorded as overridden); without a
    scope model and without an override, provisions are labelled by their content.
    ``workers`` > 1 shares a long document's batches with forked processes (``fork.py``);
    the sentences are the same as in one process. The encoder role mode tags in one process
    (its matrix products use the cores already) and decides the scope from the linear
    role model's probabilities, which the scope model was trained on.
    """
    items = list(_contexts(blocks))
    linear: list[Mapping[str, float]] = []  # what the scope model reads
    encoder = _role_encoder.FACTORY in nlp.pipe_names
    if (workers > 1 and not encoder and len(items) > BATCH_SIZE
            and sum(len(c) for _, c, _ in items) >= SPLIT_MIN_CHARS):
        # One batch per chunk: every doc meets the same batch as in one process.
        chunks = run_chunks(-(-len(items) // BATCH_SIZE), lambda i: _tag_items(
            nlp, items[i * BATCH_SIZE:(i + 1) * BATCH_SIZE], source), workers=workers)
        out = [replace(s, sentence_id=i) for i, s in enumerate(s for chunk in chunks for s in chunk)]
    else:
        out = _tag_items(nlp, items, source, linear if encoder else None)
    decision = _decide_scope(nlp, title, out, linear if encoder else [s.role_probs for s in out], scope)
    if decision is None or "policylens_role" not in nlp.pipe_names:  # a v1 model: content alone
        return out, decision or UNKNOWN_SCOPE
    return [relabel(s, decision) for s in out], decision


def _tag_items(nlp: Language, items: Sequence[tuple[Block, str, str]], source: str,
               linear: list[Mapping[str, float]] | None = None) -> list[TaggedSentence]:
    """The sentences of ``items`` (from ``_contexts``), numbered from 0, before the scope is known;
    ``linear`` (when given) receives each sentence's linear role probabilities (``role_encoder.LINEAR``)."""
    has_facets = _FACETS in nlp.pipe_names  # a caller's own pipeline may leave facets out
    has_roles = "policylens_role" in nlp.pipe_names
    out: list[TaggedSentence] = []
    docs = nlp.pipe((_make_doc(nlp, *item) for item in items), batch_size=BATCH_SIZE)
    for (block, _, _), doc in zip(items, docs, strict=True):
        triples = _governance.sentence_probs(doc)
        roles = _role.sentence_roles(doc) if has_roles else []
        linear_roles = doc.user_data.get(_role_encoder.LINEAR) or roles
        sents = [doc[start:end] for start, end, _ in triples]
        cues = cues_by_sentence(doc, sents)
        whole = doc.user_data.get(_role.TEXT) or doc.text  # Doc.text joins every token: never per sentence
        for k, (sent, (_, _, probs)) in enumerate(zip(sents, triples, strict=True)):
            text = whole[sent.start_char:sent.end_char].strip()  # == sent.text.strip()
            if not text:
                continue
            role_probs = roles[k][2] if roles else {"architecture": 0.0, "provision": 0.0, "other": 1.0}
            if linear is not None:
                linear.append(linear_roles[k][2] if roles else role_probs)
            out.append(TaggedSentence(
                doc=source, sentence_id=len(out), text=text, label=_label(probs),
                probs=probs, cues=cues[k],
                facets=sentence_facets(sent) if has_facets else Facets(),
                page=block.page, section=block.section,
                role=_argmax(role_probs) if roles else "other",  # type: ignore[arg-type]
                role_probs=role_probs, content=probs,
            ))
    return out


def _argmax(probs: Mapping[str, float]) -> str:
    return max(probs, key=probs.__getitem__)


def _label(probs: Mapping[str, float]) -> Label:
    """The most probable approach label."""
    label = _argmax(probs)
    assert label in LABELS
    return label


def _decide_scope(nlp: Language, title: str, sentences: list[TaggedSentence],
                  roles: Sequence[Mapping[str, float]],
                  scope: str | ScopeDecision | None) -> ScopeDecision | None:
    if isinstance(scope, ScopeDecision):
        return scope
    if scope is not None:
        return _scope.override(scope)
    if "policylens_scope" not in nlp.pipe_names:
        return None
    component = nlp.get_pipe("policylens_scope")
    assert isinstance(component, _scope.ScopeClassifier)
    return component.decide(_scope.ScopeInput(
        title=title, texts=[s.text for s in sentences], roles=list(roles),
        contents=[s.content if s.content is not None else s.probs for s in sentences]))


def relabel(sentence: TaggedSentence, scope: ScopeDecision) -> TaggedSentence:
    """The sentence's label and probabilities under ``scope`` (the procedure, ``procedure.py``)."""
    content = sentence.content if sentence.content is not None else sentence.probs
    probs = compose(sentence.role_probs, scope.probs, content)
    return replace(sentence, probs=probs, label=_label(probs))


def iter_sentence_texts(blocks: Iterable[Block], *, nlp: Language) -> Iterator[str]:
    """The sentence texts ``tag_blocks`` would tag, without classifying them (any pipeline that
    sets sentence boundaries the same way, such as ``build_pipeline(classifier=False)``)."""
    pairs = list(_docs(nlp, blocks))
    for doc in nlp.pipe((doc for _, doc in pairs), batch_size=BATCH_SIZE):
        sents = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
        for sent in sents:
            text = sent.text.strip()
            if text:
                yield text


def taggable_blocks(document: Document) -> Iterator[Block]:
    """The blocks whose sentences are tagged: body text, and each table row on its own.

    Footnotes are left out (mostly citations). Table rows are kept because policy
    tables often carry the substance (actions, duties, who regulates what); a row's
    cells are joined with "; " so the row reads as one sentence.
    """
    for block in document.blocks:
        if block.kind == "footnote":
            continue
        if block.kind == "table":
            for row in block.text.splitlines():
                if row.strip(" |"):
                    yield Block(page=block.page, kind="paragraph", text=row.replace(" | ", "; "),
                                section=block.section)
        else:
            yield block


def tag(document: Document, *, nlp: Language | None = None, scope: str | None = None,
        workers: int = 1) -> TaggedDocument:
    """Tag every sentence of a document (body text and table rows; footnotes are skipped).

    ``scope`` (``horizontal``/``targeted``/``none``) overrides the scope model; ``workers`` > 1
    tags a long document in that many processes (same sentences, see ``tag_blocks``).
    """
    nlp = nlp or load_pipeline()
    sentences, decision = tag_blocks(taggable_blocks(document), source=document.source, nlp=nlp,
                                     title=document.title, scope=scope, workers=workers)
    return TaggedDocument(source=document.source, title=document.title, sha256=document.sha256,
                          n_pages=document.n_pages, sentences=tuple(sentences),
                          model_version=model_version(nlp), scope=decision)


_BLANK_LINES = re.compile(r"\n[ \t]*\n+")


def text_blocks(text: str) -> list[Block]:
    """Plain text -> blocks: paragraphs split at blank lines, short unpunctuated lines as headings."""
    blocks: list[Block] = []
    section: str | None = None
    for para in _BLANK_LINES.split(text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [line.strip() for line in para.split("\n") if line.strip()]
        if not lines:
            continue
        body: list[str] = []
        for i, line in enumerate(lines):
            after = lines[i + 1] if i + 1 < len(lines) else ""
            before_ends = not body or body[-1][-1] in ".;:!?"
            if _looks_like_heading(line) and before_ends and (not after or after[:1].isupper()):
                if body:
                    blocks.append(Block(page=None, kind="paragraph", text=" ".join(body), section=section))
                    body = []
                section = line
                blocks.append(Block(page=None, kind="heading", text=line, section=section))
            else:
                body.append(line)
        if body:
            blocks.append(Block(page=None, kind="paragraph", text=" ".join(body), section=section))
    return blocks


_FUNCTION_WORDS = frozenset([
    "a", "an", "and", "or", "the", "of", "to", "in", "for", "with", "by", "on", "at", "as", "that",
    "which"
])


def _looks_like_heading(line: str) -> bool:
    """Short, capitalised, no closing punctuation, not cut after a function word."""
    words = line.split()
    return (len(words) <= 10 and line[-1] not in ".;:,!?\"')" and (line[:1].isupper() or line[:1].isdigit())
            and words[-1].lower() not in _FUNCTION_WORDS)


def tag_text(text: str, *, source: str = "<text>", nlp: Language | None = None,
             scope: str | None = None, workers: int = 1) -> TaggedDocument:
    """Tag a literal text (paragraphs at blank lines, short unpunctuated lines as headings);
    ``workers`` as in ``tag``."""
    nlp = nlp or load_pipeline()
    sentences, decision = tag_blocks(text_blocks(_clean(text)), source=source, nlp=nlp, scope=scope,
                                     workers=workers)
    sha = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return TaggedDocument(source=source, title="", sha256=sha, n_pages=0, sentences=tuple(sentences),
                          model_version=model_version(nlp), scope=decision)
