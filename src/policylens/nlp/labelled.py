"""Labelled data under codebook v2.0: sentences with a role and a label, documents with a scope.

Two kinds of source feed the role and scope models:

* **written sentences** (``corpora/annotations/sentences/``): the project's own
  sentences, each with ``role``, ``scope`` (of the document it was written for),
  ``label`` (v2.0) and ``label_v1``; they have no context;
* **stand-off labels of real documents** (``corpora/annotations/agora/``): one line
  per sentence, ``{"id", "source", "sha256", "role", "label", "confidence"}``, and
  one line per document in a scope file, ``{"source", "scope", "confidence"}``.
  The documents are read in place and segmented as ``policylens tag`` segments
  them, so each sentence gets its real context (previous sentence, heading);
* **written documents** (``corpora/annotations/documents/``): whole documents the
  project wrote in the registers the free real texts lack (supervisors' guidance,
  cross-sector regulation, voluntary frameworks, executive and international
  instruments), kept in its ``docs/`` subfolder and labelled stand-off like the real
  ones; their sources are relative to that folder (``documents_root``).

A record whose ``source`` is listed as evaluation-only (``eval_documents.txt``
beside the documents, or the list passed in) is refused with a ``DataError``:
training never sees those documents.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policylens.errors import DataError, PolicylensError
from policylens.labels import LABELS, ROLES, SCOPES
from policylens.nlp.annotations import Annotation, read_jsonl, split_of
from policylens.nlp.features import doc_features
from policylens.nlp.role import role_rows
from policylens.nlp.standoff import StandoffLabel, _check_source, sentence_sha256

if TYPE_CHECKING:
    from spacy.language import Language

#: The list of evaluation-only documents, looked for beside the documents.
EVALUATION_LIST = "eval_documents.txt"
#: A stand-off folder with this subfolder carries its own documents (the project's written
#: documents): its sources are relative to the folder itself, not to ``--documents``.
OWN_DOCUMENTS = "docs"


def written_documents_dir() -> Path:
    """``corpora/annotations/documents``: whole documents the project wrote, labelled stand-off."""
    return Path(__file__).resolve().parents[3] / "corpora" / "annotations" / "documents"


def documents_root(standoff_dir: Path, documents: Path) -> Path:
    """The folder a stand-off folder's sources are relative to (module docstring)."""
    return standoff_dir if (standoff_dir / OWN_DOCUMENTS).is_dir() else documents


@dataclass(frozen=True)
class Example:
    """One labelled sentence with the feature rows the content and role models read."""

    id: str
    source: str  # "" for a written sentence
    role: str
    label: str
    scope: str | None
    content_row: dict[str, float]
    role_row: dict[str, float]
    confidence: str | None = None


@dataclass(frozen=True)
class DocumentRows:
    """A document as the models read it: title, and per sentence its text and feature rows."""

    source: str
    title: str
    texts: list[str]
    content_rows: list[dict[str, float]]
    role_rows: list[dict[str, float]]
    sections: list[str] = field(default_factory=list)
    blocks: list[int] = field(default_factory=list)  # the index of each sentence's block
    kinds: list[str] = field(default_factory=list)  # and that block's kind
    scope: str | None = None
    index: dict[str, int] = field(default_factory=dict)  # sentence sha256 -> first position


def read_document(path: Path, nlp: Language, *, source: str = "") -> DocumentRows:
    """Extract and segment one document exactly as ``policylens tag`` does, keeping feature rows."""
    from policylens.extract import extract
    from policylens.nlp.pipeline import _docs, taggable_blocks

    document = extract(path)
    pairs = list(_docs(nlp, taggable_blocks(document)))
    texts: list[str] = []
    content: list[dict[str, float]] = []
    roles: list[dict[str, float]] = []
    sections: list[str] = []
    blocks: list[int] = []
    kinds: list[str] = []
    for b, ((block, _), doc) in enumerate(zip(pairs, nlp.pipe(d for _, d in pairs), strict=True)):
        sents = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
        base = doc_features(doc, [(s.start, s.end) for s in sents])
        for sent, c_row, r_row in zip(sents, base, role_rows(doc, sents, base), strict=True):
            text = sent.text.strip()
            if text:
                texts.append(text)
                content.append(c_row)
                roles.append(r_row)
                sections.append(block.section or "")
                blocks.append(b)
                kinds.append(block.kind)
    index: dict[str, int] = {}
    for i, text in enumerate(texts):
        index.setdefault(sentence_sha256(text), i)
    return DocumentRows(
        source=source or str(path),
        title=document.title,
        texts=texts,
        content_rows=content,
        role_rows=roles,
        sections=sections,
        blocks=blocks,
        kinds=kinds,
        index=index,
    )


def written_examples(annotations: Iterable[Annotation], nlp: Language) -> list[Example]:
    """Written sentences with a v2.0 role: each read as one sentence without context."""
    from policylens.nlp.role import CONTEXT
    from policylens.nlp.segment import HEADING_FLAG

    chosen = [a for a in annotations if a.extra.get("role") in ROLES]
    docs = []
    for a in chosen:
        doc = nlp.make_doc(a.text)
        doc.user_data[HEADING_FLAG] = True  # one line = one sentence
        doc.user_data[CONTEXT] = {"prev": "", "section": ""}
        docs.append(doc)
    out: list[Example] = []
    for a, doc in zip(chosen, nlp.pipe(docs, batch_size=256), strict=True):
        sent = doc[:]
        base = doc_features(doc, [(sent.start, sent.end)])
        out.append(
            Example(
                id=a.id,
                source="",
                role=a.extra["role"],
                label=a.label,
                scope=a.extra.get("scope"),
                content_row=base[0],
                role_row=role_rows(doc, [sent], base)[0],
                confidence=a.extra.get("confidence"),
            )
        )
    return out


def evaluation_sources(documents: Path, extra: Path | None = None) -> set[str]:
    """The evaluation-only documents: ``eval_documents.txt`` beside them, and ``extra`` if given."""
    out: set[str] = set()
    for path in (documents / EVALUATION_LIST, extra):
        if path is not None and path.is_file():
            out |= {
                line.strip()
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")
            }
    return out


def load_scopes(path: Path) -> dict[str, str]:
    """A scope file: ``{"source", "scope"}`` per line -> ``{source: scope}``."""
    out: dict[str, str] = {}
    for row in read_jsonl(path, required=("source", "scope")):
        where = f"line {row['_line']}"
        if row["scope"] not in SCOPES:
            raise DataError(
                f"{where}: scope {row['scope']!r} is not one of {', '.join(SCOPES)}", path=str(path)
            )
        try:
            out[_check_source(row["source"], where)] = row["scope"]
        except DataError as exc:
            raise DataError(str(exc), path=str(path)) from None
    return out


def load_sentence_labels(path: Path) -> list[dict[str, Any]]:
    """A v2.0 stand-off file: ``{"id", "source", "sha256", "role", "label"}`` per line, checked."""
    rows = read_jsonl(path, required=("id", "source", "sha256", "role", "label"))
    seen: set[str] = set()
    for row in rows:
        where = f"line {row['_line']}"
        if row["role"] not in ROLES:
            raise DataError(f"{where}: role {row['role']!r} is not one of {', '.join(ROLES)}", path=str(path))
        if row["id"] in seen:
            raise DataError(f"{where}: duplicate id {row['id']!r}", path=str(path))
        seen.add(row["id"])
        try:
            row["source"] = _check_source(row["source"], where)
        except DataError as exc:
            raise DataError(str(exc), path=str(path)) from None
    return rows


def refuse_evaluation(sources: Iterable[str], evaluation: set[str], what: Path) -> None:
    """A ``DataError`` when any training record points at an evaluation-only document."""
    bad = sorted(set(sources) & evaluation)
    if bad:
        raise DataError(
            f"{len(bad)} record source(s) are evaluation-only documents and may not be "
            f"trained on: {', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''}",
            path=str(what),
        )


@dataclass(frozen=True)
class RealData:
    """Stand-off examples resolved in their documents, and the documents read (with scopes)."""

    examples: list[Example]
    documents: dict[str, DocumentRows]
    missing: dict[str, str]  # source -> reason
    unmatched: list[str]


def resolve_real(
    labels: Sequence[dict[str, Any]],
    scopes: dict[str, str],
    documents: Path,
    nlp: Language,
    *,
    sources: Iterable[str] = (),
) -> RealData:
    """Read every document that has a label or a scope (plus ``sources``); match labels by hash."""
    root = documents.resolve()
    by_source: dict[str, list[dict[str, Any]]] = {}
    for row in labels:
        by_source.setdefault(row["source"], []).append(row)
    wanted = sorted(set(by_source) | set(scopes) | set(sources))
    docs: dict[str, DocumentRows] = {}
    missing: dict[str, str] = {}
    unmatched: list[str] = []
    examples: list[Example] = []
    for source in wanted:
        path = (root / source).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            missing[source] = "no such file in the documents folder"
            continue
        try:
            rows = read_document(path, nlp, source=source)
        except PolicylensError as exc:
            missing[source] = str(exc)
            continue
        rows = DocumentRows(**{**rows.__dict__, "scope": scopes.get(source)})
        docs[source] = rows
        for row in by_source.get(source, []):
            i = rows.index.get(row["sha256"])
            if i is None:
                unmatched.append(row["id"])
                continue
            examples.append(
                Example(
                    id=row["id"],
                    source=source,
                    role=row["role"],
                    label=row["label"],
                    scope=scopes.get(source),
                    content_row=rows.content_rows[i],
                    role_row=rows.role_rows[i],
                    confidence=row.get("confidence"),
                )
            )
    return RealData(examples, docs, missing, unmatched)


def resolve_sets(
    standoff_dirs: Sequence[Path], documents: Path, nlp: Language, evaluation: set[str]
) -> tuple[RealData, dict[str, str]]:
    """Read several stand-off folders (``sentences.jsonl`` + ``scopes.jsonl`` each) against their
    documents (``documents_root``) into one ``RealData``; returns it with every scope.

    Every record's source is checked against ``evaluation`` first (``refuse_evaluation``), and a
    source named by two folders is an error: the documents' paths must not collide."""
    merged = RealData([], {}, {}, [])
    all_scopes: dict[str, str] = {}
    for folder in standoff_dirs:
        labels_path, scopes_path = folder / "sentences.jsonl", folder / "scopes.jsonl"
        labels = load_sentence_labels(labels_path)
        scopes = load_scopes(scopes_path)
        refuse_evaluation((row["source"] for row in labels), evaluation, labels_path)
        refuse_evaluation(scopes, evaluation, scopes_path)
        if clash := sorted(set(scopes) & set(all_scopes)):
            raise DataError(f"{len(clash)} source(s) appear in two stand-off folders, e.g. {clash[0]!r}",
                            path=str(scopes_path))
        real = resolve_real(labels, scopes, documents_root(folder, documents), nlp)
        merged.examples.extend(real.examples)
        merged.documents.update(real.documents)
        merged.missing.update(real.missing)
        merged.unmatched.extend(real.unmatched)
        all_scopes.update(scopes)
    return merged, all_scopes


def heldout_document(source: str) -> bool:
    """About 20% of real documents, chosen by the hash of their path, are held out of all training."""
    return split_of("doc:" + source) == "heldout"


def content_view(annotation: Annotation) -> Annotation:
    """A written sentence labelled by what its words favour (the content model's target).

    Under v2.0 the label of a provision of a horizontal or targeted instrument comes from the
    scope, not from its words; for those the v1.1 label, a judgement of the words, is kept.
    """
    extra = annotation.extra
    if (extra.get("role") == "provision" and extra.get("scope") in ("horizontal", "targeted")
            and extra.get("label_v1") in LABELS):
        return replace(annotation, label=extra["label_v1"])
    return annotation


def content_labels(standoff_dir: Path, *, others: int = 1200, seed: int = 0) -> list[StandoffLabel]:
    """Stand-off labels of real sentences whose v2.0 label judges their words (content rules A1-A7):
    architecture sentences, provisions of ``none`` documents, and a sample of ``other`` sentences
    (neutral); documents held out by ``heldout_document`` are left out."""
    rows = load_sentence_labels(standoff_dir / "sentences.jsonl")
    scopes = load_scopes(standoff_dir / "scopes.jsonl")
    rows = [r for r in rows if not heldout_document(r["source"])]
    keep = [r for r in rows if r["role"] == "architecture"
            or (r["role"] == "provision" and scopes.get(r["source"]) == "none")]
    other = sorted((r for r in rows if r["role"] == "other"), key=lambda r: r["id"])
    random.Random(seed).shuffle(other)
    return [StandoffLabel(id=r["id"], source=r["source"], sha256=r["sha256"], label=r["label"],
                          confidence=r.get("confidence")) for r in keep + other[:others]]
