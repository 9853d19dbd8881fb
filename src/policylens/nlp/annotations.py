"""The labelled training sentences: loading, validation, the held-out split, statistics.

Sentences live in ``corpora/annotations/sentences/*.jsonl``, one JSON object per
line: ``id``, ``text``, ``label`` (required), ``genre``, ``jurisdiction``,
``hard_case`` (``null`` or the kind of hard case), ``sectors``, ``note``.

The held-out split is fixed by the id alone: a sentence is held out when the
first 8 hex digits of ``sha256(id)`` modulo 100 fall below ``HELDOUT_PERCENT``.
Adding sentences never moves an old one between splits, and training code only
ever receives the ``train`` part.

``python -m policylens.nlp.annotations stats [DIR]`` prints the counts that
``corpora/annotations/README.md`` reports.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from policylens.errors import DataError
from policylens.labels import LABELS

HELDOUT_PERCENT = 20
TOP_ROWS = 15  # rows per table in the Markdown statistics
Split = Literal["train", "heldout"]


@dataclass(frozen=True, slots=True)
class Annotation:
    """One labelled sentence."""

    id: str
    text: str
    label: str
    genre: str = ""
    jurisdiction: str = ""
    hard_case: str | None = None
    sectors: tuple[str, ...] = ()
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def split(self) -> Split:
        return split_of(self.id)


def split_of(sentence_id: str) -> Split:
    """``heldout`` for about ``HELDOUT_PERCENT`` % of ids, chosen by hash, else ``train``."""
    digest = hashlib.sha256(sentence_id.encode("utf-8")).hexdigest()
    return "heldout" if int(digest[:8], 16) % 100 < HELDOUT_PERCENT else "train"


def default_annotations_dir() -> Path:
    """``corpora/annotations/sentences`` of the repository (editable installs)."""
    return Path(__file__).resolve().parents[3] / "corpora" / "annotations" / "sentences"


def data_files(path: Path) -> list[Path]:
    """A ``.jsonl`` file itself, or every ``*.jsonl`` file below a folder."""
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(path.rglob("*.jsonl"))
        if files:
            return files
        raise DataError(f"no .jsonl files in {path}")
    raise DataError(f"no such file or folder: {path}")


def read_jsonl(path: Path, *, required: Sequence[str] = ("text", "label")) -> list[dict[str, Any]]:
    """Read a JSONL file of labelled sentences; a bad line is a ``DataError`` naming it."""
    rows: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise DataError("not UTF-8 text", path=str(path)) from None
    except OSError as exc:
        raise DataError(f"cannot read ({exc.strerror})", path=str(path)) from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"line {number}: not valid JSON ({exc.msg})", path=str(path)) from None
        if not isinstance(row, dict):
            raise DataError(f"line {number}: expected a JSON object", path=str(path))
        missing = [key for key in required if key not in row]
        if missing:
            raise DataError(f"line {number}: missing field(s) {', '.join(missing)}", path=str(path))
        if "text" in required and (not isinstance(row["text"], str) or not row["text"].strip()):
            raise DataError(f"line {number}: 'text' must be a non-empty string", path=str(path))
        if "label" in required and row["label"] not in LABELS:
            raise DataError(f"line {number}: label {row['label']!r} is not one of {', '.join(LABELS)}",
                            path=str(path))
        row["_line"] = number
        rows.append(row)
    return rows


def load_annotations(path: Path | None = None) -> list[Annotation]:
    """All annotations under ``path`` (default: the repository's sentences), ids unique."""
    folder = path or default_annotations_dir()
    out: list[Annotation] = []
    seen: dict[str, str] = {}
    for file in data_files(folder):
        for row in read_jsonl(file, required=("id", "text", "label")):
            sid = str(row["id"])
            if sid in seen:
                raise DataError(f"line {row['_line']}: duplicate id {sid!r} (also in {seen[sid]})",
                                path=str(file))
            seen[sid] = file.name
            known = {"id", "text", "label", "genre", "jurisdiction", "hard_case", "sectors", "note", "_line"}
            out.append(Annotation(
                id=sid, text=row["text"].strip(), label=row["label"],
                genre=str(row.get("genre") or ""), jurisdiction=str(row.get("jurisdiction") or ""),
                hard_case=row.get("hard_case") or None, sectors=tuple(row.get("sectors") or ()),
                note=str(row.get("note") or ""), extra={k: v for k, v in row.items() if k not in known},
            ))
    return out


def split(annotations: Iterable[Annotation]) -> tuple[list[Annotation], list[Annotation]]:
    """``(train, heldout)`` by the id hash."""
    train: list[Annotation] = []
    heldout: list[Annotation] = []
    for ann in annotations:
        (heldout if ann.split == "heldout" else train).append(ann)
    return train, heldout


def data_sha256(annotations: Sequence[Annotation]) -> str:
    """A hash of the labelled content (id, text, label), independent of file layout."""
    digest = hashlib.sha256()
    for ann in sorted(annotations, key=lambda a: a.id):
        digest.update(json.dumps([ann.id, ann.text, ann.label], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def stats(annotations: Sequence[Annotation]) -> dict[str, Any]:
    """Counts per label, genre, jurisdiction, hard-case type and split."""
    hard = [a for a in annotations if a.hard_case]
    return {
        "total": len(annotations),
        "hard_cases": len(hard),
        "hard_case_share": round(len(hard) / len(annotations), 3) if annotations else 0.0,
        "by_label": dict(Counter(a.label for a in annotations).most_common()),
        "by_split": {s: dict(Counter(a.label for a in annotations if a.split == s).most_common())
                     for s in ("train", "heldout")},
        "by_genre": dict(Counter(a.genre or "?" for a in annotations).most_common()),
        "by_jurisdiction": dict(Counter(a.jurisdiction or "?" for a in annotations).most_common()),
        "by_hard_case": dict(Counter(a.hard_case for a in hard).most_common()),
        "hard_case_by_label": dict(Counter(a.label for a in hard).most_common()),
    }


def stats_markdown(numbers: dict[str, Any]) -> str:
    """The statistics as Markdown tables (pasted into corpora/annotations/README.md)."""
    lines = [f"Total: **{numbers['total']}** sentences, **{numbers['hard_cases']}** hard cases "
             f"({numbers['hard_case_share']:.0%}).", ""]
    split_counts = numbers["by_split"]
    lines += ["| label | all | train | held-out | hard cases |", "|---|---:|---:|---:|---:|"]
    for label in LABELS:
        lines.append(f"| {label} | {numbers['by_label'].get(label, 0)} | "
                     f"{split_counts['train'].get(label, 0)} | {split_counts['heldout'].get(label, 0)} | "
                     f"{numbers['hard_case_by_label'].get(label, 0)} |")
    for title, key in (("genre", "by_genre"), ("jurisdiction", "by_jurisdiction"),
                       ("hard-case type", "by_hard_case")):
        items = list(numbers[key].items())
        lines += ["", f"| {title} | sentences |", "|---|---:|"]
        lines += [f"| {name} | {count} |" for name, count in items[:TOP_ROWS]]
        if len(items) > TOP_ROWS:
            rest = items[TOP_ROWS:]
            lines.append(f"| other ({len(rest)} more) | {sum(c for _, c in rest)} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m policylens.nlp.annotations stats [DIR] [--json]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "stats":
        print("usage: python -m policylens.nlp.annotations stats [DIR] [--json]", file=sys.stderr)
        return 2
    as_json = "--json" in args
    rest = [a for a in args[1:] if a != "--json"]
    try:
        numbers = stats(load_annotations(Path(rest[0]) if rest else None))
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(numbers, indent=2) if as_json else stats_markdown(numbers).rstrip("\n"))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
