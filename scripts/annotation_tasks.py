"""Write annotation task sheets for codebook v2.0 (scope, role, label) outside the repository.

The sheets carry the sentence text so that an annotator can read it; they are written to a
folder outside the repository (default ``/tmp/annot/tasks``) and never committed. The labels
that come back are turned into stand-off records (document path + sentence SHA-256) by
``scripts/annotation_collect.py``.

Usage::

    python scripts/annotation_tasks.py agora --shared ../shared/corpus --docs 240 --chunks 6
    python scripts/annotation_tasks.py agora --round 5 --extra horizontal,targeted --docs 200 --chunks 4
    python scripts/annotation_tasks.py scopes --shared ../shared/corpus --docs 220
    python scripts/annotation_tasks.py real --shared ../shared/corpus --chunks 4
    python scripts/annotation_tasks.py second --docs 22
    python scripts/annotation_tasks.py written --chunks 4   # every sentence of corpora/annotations/documents
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
from pathlib import Path

from policylens.extract import extract
from policylens.nlp.pipeline import build_pipeline, taggable_blocks
from policylens.nlp.standoff import sentence_sha256

#: Sentences likely to be architecture or provision: oversampled so they are well represented.
GOVERNANCE_HINT = re.compile(
    r"\b(shall|must|may not|prohibit\w*|required? to|requirement|authorit\w+|regulat\w+|agenc\w+|"
    r"commission|office|board|council|establish\w*|designat\w+|coordinat\w+|preempt\w*|pre-empt\w*|"
    r"appl(y|ies) to|jurisdiction|oversight|enforc\w+|penalt\w+|fine[sd]?|license\w*|licen[cs]\w*|"
    r"register\w*|registration|certif\w+|supervis\w+|sandbox\w*|notify|disclos\w+|assessment)\b",
    re.IGNORECASE,
)


#: Committed stand-off labels of free AGORA documents (a fresh machine has no earlier sheets).
AGORA_LABELS = Path(__file__).resolve().parents[1] / "corpora" / "annotations" / "agora"
#: The project's written documents (``docs/``) and their stand-off labels.
WRITTEN = Path(__file__).resolve().parents[1] / "corpora" / "annotations" / "documents"


def free_agora(shared: Path) -> list[str]:
    evals = {
        line.strip()
        for line in (shared / "eval_documents.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    return sorted(
        f"agora/fulltext/{p.name}"
        for p in (shared / "agora" / "fulltext").glob("*.txt")
        if f"agora/fulltext/{p.name}" not in evals
    )


def agora_meta(shared: Path) -> dict[str, dict[str, str]]:
    with open(shared / "agora" / "documents.csv", encoding="utf-8-sig", newline="") as fh:
        return {row["AGORA ID"]: row for row in csv.DictReader(fh)}


def sentences(path: Path, nlp) -> list[tuple[str, str | None]]:
    """``(text, section)`` of each sentence, segmented as ``policylens tag`` segments it."""
    out: list[tuple[str, str | None]] = []
    blocks = list(taggable_blocks(extract(path)))
    from policylens.nlp.pipeline import _docs  # the same chunking as tagging

    pairs = list(_docs(nlp, blocks))
    for (block, _), doc in zip(pairs, nlp.pipe(d for _, d in pairs), strict=True):
        for sent in doc.sents:
            text = sent.text.strip()
            if text:
                out.append((text, block.section if block.kind != "heading" else "(heading)"))
    return out


def _short(text: str, n: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + " …"


def _labelled_sentences() -> dict[str, set[str]]:
    """SHA-256 of the sentences each document already has a committed label for."""
    done: dict[str, set[str]] = {}
    path = AGORA_LABELS / "sentences.jsonl"
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            for row in map(json.loads, fh):
                done.setdefault(row["source"], set()).add(row["sha256"])
    return done


def known_scopes() -> dict[str, str]:
    """The committed scope of each free AGORA document (later rounds label sentences only)."""
    path = AGORA_LABELS / "scopes.jsonl"
    if not path.exists():
        return {}
    with open(path, encoding="utf-8") as fh:
        return {row["source"]: row["scope"] for row in map(json.loads, fh) if row}


def doc_header(
    source: str, meta: dict[str, str] | None, sents: list[tuple[str, str | None]], scope: str | None = None
) -> list[str]:
    lines = [f"## DOCUMENT {source}"]
    if scope:
        lines.append(f"Document scope (already labelled, codebook section 1): {scope}")
    if meta:
        lines.append(
            f"AGORA name: {meta['Official name']} | authority: {meta['Authority']} | "
            f"status: {meta['Most recent activity']}"
        )
        lines.append(
            f"AGORA summary (metadata, may be machine-written): {_short(meta['Short summary'], 500)}"
        )
    opening = " ".join(t for t, _ in sents[:6])
    lines.append(f"Opening: {_short(opening, 700)}")
    return lines


def _taken(out: Path) -> set[str]:
    """Documents already on an earlier round's sentence sheets or in the committed labels."""
    taken = set(_labelled_sentences())
    for index in out.glob("agora*_index.jsonl"):
        with open(index, encoding="utf-8") as fh:
            taken |= {json.loads(line)["source"] for line in fh}
    return taken


def write_agora(args: argparse.Namespace) -> None:
    nlp = build_pipeline(classifier=False)
    meta = agora_meta(args.shared)
    rng = random.Random(args.seed + 10 * (args.round - 1))
    taken = _taken(args.out) if args.round > 1 else set()
    scopes = known_scopes() if args.round > 2 else {}
    done = _labelled_sentences()
    if args.extra:  # more sentences of labelled documents of the given scopes
        wanted = set(args.extra.split(","))
        docs = [d for d in free_agora(args.shared) if d in done and scopes.get(d) in wanted]
    else:
        docs = [d for d in free_agora(args.shared) if d not in taken]
    rng.shuffle(docs)
    if args.round > 1:  # later rounds widen the registers: other authorities than Congress first
        docs.sort(key=lambda d: meta.get(Path(d).stem, {}).get("Authority") == "United States Congress")
    chosen: list[tuple[str, list[tuple[str, str | None]], list[int]]] = []
    for source in docs:
        if len(chosen) >= args.docs:
            break
        sents = sentences(args.shared / source, nlp)
        usable = [
            i
            for i, (t, _) in enumerate(sents)
            if 5 <= len(t.split()) <= 150 and sentence_sha256(t) not in done.get(source, ())
        ]
        if len(usable) < 4:
            continue
        hinted = [i for i in usable if GOVERNANCE_HINT.search(sents[i][0])]
        rest = [i for i in usable if i not in set(hinted)]
        pick = rng.sample(hinted, min(len(hinted), args.hinted)) + rng.sample(
            rest, min(len(rest), args.plain)
        )
        chosen.append((source, sents, sorted(pick)))
    per_chunk = -(-len(chosen) // args.chunks)
    stem = "agora" if args.round == 1 else f"agora{args.round}"
    index = []
    for c in range(args.chunks):
        part = chosen[c * per_chunk : (c + 1) * per_chunk]
        lines: list[str] = []
        for source, sents, pick in part:
            agora_id = Path(source).stem
            lines += doc_header(source, meta.get(agora_id), sents, scopes.get(source))
            for i in pick:
                text, section = sents[i]
                sid = ("ag-" if args.round == 1 else f"ag{args.round}-") + hashlib.sha256(
                    f"{source}:{sentence_sha256(text)}".encode()
                ).hexdigest()[:10]
                prev = sents[i - 1][0] if i > 0 else ""
                lines.append(
                    f"[{sid}] (sentence {i + 1} of {len(sents)}; section: {_short(section or '-', 80)})"
                )
                if prev:
                    lines.append(f"   previous: {_short(prev, 240)}")
                lines.append(f"   >>> {text}")
                index.append(
                    {
                        "id": sid,
                        "source": source,
                        "sha256": sentence_sha256(text),
                        "chunk": c,
                        "round": args.round,
                    }
                )
            lines.append("")
        (args.out / f"{stem}_{c}.txt").write_text("\n".join(lines), encoding="utf-8")
    with open(args.out / f"{stem}_index.jsonl", "w", encoding="utf-8") as fh:
        for row in index:
            fh.write(json.dumps(row) + "\n")
    print(f"{len(chosen)} documents, {len(index)} sentences, {args.chunks} chunks")


def write_scopes(args: argparse.Namespace) -> None:
    nlp = build_pipeline(classifier=False)
    meta = agora_meta(args.shared)
    taken = _taken(args.out)
    for sheet in args.out.glob("scopes*.txt"):  # documents an earlier scope sheet already holds
        taken |= {
            b.split("\n", 1)[0].strip() for b in sheet.read_text(encoding="utf-8").split("## DOCUMENT ")[1:]
        }
    rng = random.Random(args.seed + 1)
    docs = [d for d in free_agora(args.shared) if d not in taken]
    rng.shuffle(docs)
    lines: list[str] = []
    for source in docs[: args.docs]:
        sents = sentences(args.shared / source, nlp)
        lines += doc_header(source, meta.get(Path(source).stem), sents)
        lines.append("")
    name = "scopes.txt" if args.round == 1 else f"scopes{args.round}.txt"
    (args.out / name).write_text("\n".join(lines), encoding="utf-8")
    print(f"{min(len(docs), args.docs)} documents")


def write_real(args: argparse.Namespace) -> None:
    """The existing real stand-off set, every sentence in document order, for a v2.0 relabel."""
    nlp = build_pipeline(classifier=False)
    labels = [json.loads(line) for line in args.labels.read_text(encoding="utf-8").splitlines() if line]
    by_source: dict[str, dict[str, str]] = {}
    for row in labels:
        by_source.setdefault(row["source"], {})[row["sha256"]] = row["id"]
    chunks: list[list[str]] = [[] for _ in range(args.chunks)]
    sizes = [0] * args.chunks
    for source, wanted in sorted(by_source.items(), key=lambda kv: -len(kv[1])):
        sents = sentences(args.shared / source, nlp)
        c = sizes.index(min(sizes))
        lines = doc_header(source, None, sents)
        for i, (text, section) in enumerate(sents):
            sid = wanted.get(sentence_sha256(text))
            if sid is None:
                continue  # not in the labelled set (too short or long): context only
            lines.append(f"[{sid}] (sentence {i + 1} of {len(sents)}; section: {_short(section or '-', 80)})")
            lines.append(f"   >>> {text}")
        lines.append("")
        chunks[c] += lines
        sizes[c] += len(wanted)
    for c, lines in enumerate(chunks):
        (args.out / f"real_{c}.txt").write_text("\n".join(lines), encoding="utf-8")
    print("sentences per chunk:", sizes)


def write_second(args: argparse.Namespace) -> None:
    """A second, independent pass: whole documents drawn from the sentence sheets and the scope sheet."""
    rng = random.Random(args.seed + 2)
    blocks: list[str] = []
    for sheet in sorted(args.out.glob("agora_[0-9]*.txt")):
        blocks += [b for b in sheet.read_text(encoding="utf-8").split("## DOCUMENT ")[1:]]
    scope_blocks = (args.out / "scopes.txt").read_text(encoding="utf-8").split("## DOCUMENT ")[1:]
    picked = rng.sample(blocks, args.docs)
    n = sum(b.count("\n   >>> ") for b in picked)
    sheet = picked + rng.sample(scope_blocks, max(0, 60 - args.docs))
    rng.shuffle(sheet)
    (args.out / "second.txt").write_text("".join("## DOCUMENT " + b for b in sheet), encoding="utf-8")
    print(f"{len(sheet)} documents, {n} sentences")


def write_written(args: argparse.Namespace) -> None:
    """Every sentence of the project's written documents, in order, each document asking for its scope.

    The sheet ids start ``wd-``; sources are relative to ``corpora/annotations/documents``."""
    nlp = build_pipeline(classifier=False)
    docs = sorted((WRITTEN / "docs").glob(args.match))
    chunks: list[list[str]] = [[] for _ in range(args.chunks)]
    sizes = [0] * args.chunks
    index = []
    for path in docs:
        source = f"docs/{path.name}"
        sents = sentences(path, nlp)
        c = sizes.index(min(sizes))
        lines = [f"## DOCUMENT {source}", f"Full text: {path}",
                 "Document scope: answer it first, as {\"doc\": \"" + source + "\", \"scope\": ...}"]
        seen: set[str] = set()
        for i, (text, section) in enumerate(sents):
            sha = sentence_sha256(text)
            if sha in seen or len(text.split()) < 2:
                continue  # a sentence repeated word for word has one id
            seen.add(sha)
            sid = "wd-" + hashlib.sha256(f"{source}:{sha}".encode()).hexdigest()[:10]
            lines.append(f"[{sid}] (sentence {i + 1} of {len(sents)}; section: {_short(section or '-', 80)})")
            if i > 0:
                lines.append(f"   previous: {_short(sents[i - 1][0], 240)}")
            lines.append(f"   >>> {text}")
            index.append({"id": sid, "source": source, "sha256": sha, "chunk": c})
            sizes[c] += 1
        lines.append("")
        chunks[c] += lines
    for c, lines in enumerate(chunks):
        (args.out / f"written_docs_{c}.txt").write_text("\n".join(lines), encoding="utf-8")
    with open(args.out / "written_docs_index.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(row) + "\n" for row in index)
    print(f"{len(docs)} documents; sentences per chunk: {sizes}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["agora", "scopes", "real", "second", "written"])
    parser.add_argument("--shared", type=Path, default=Path("../shared/corpus"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/annot/tasks"))
    parser.add_argument("--docs", type=int, default=240)
    parser.add_argument("--chunks", type=int, default=6)
    parser.add_argument("--hinted", type=int, default=11)
    parser.add_argument("--plain", type=int, default=4)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--round", type=int, default=1, help="annotation round (2+: documents not yet taken)")
    parser.add_argument(
        "--extra",
        metavar="SCOPES",
        help="new sentences of documents already labelled whose scope is one of these (comma-separated)",
    )
    parser.add_argument("--match", default="*.md", help="written: which documents (a glob in docs/)")
    parser.add_argument("--labels", type=Path, default=Path("corpora/annotations/eval/real/labels.jsonl"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    writers = {"agora": write_agora, "scopes": write_scopes, "real": write_real, "second": write_second,
               "written": write_written}
    writers[args.what](args)


if __name__ == "__main__":
    main()
