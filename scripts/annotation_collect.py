"""Turn annotators' answers (ids and labels, no text) into the repository's stand-off files.

Reads the task index written by ``annotation_tasks.py`` and the answer files in
``/tmp/annot/out`` and writes:

* ``corpora/annotations/agora/sentences.jsonl`` and ``scopes.jsonl`` (training data);
* ``corpora/annotations/agora/second_pass/`` (the independent second pass);
* ``corpora/annotations/eval/real/labels.jsonl`` and ``scopes.jsonl`` (the real set, v2.0);
* the ``role``, ``scope``, ``label`` (v2.0) and ``label_v1`` fields of the written sentences.

Usage: ``python scripts/annotation_collect.py [--answers /tmp/annot/out]``, or, for a later
round whose earlier answers are no longer at hand, ``--round 3``: add that round's answers to
the committed ``agora/sentences.jsonl`` and leave every other file as it is.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANNOTATIONS = ROOT / "corpora" / "annotations"
ROLES = ("architecture", "provision", "other")
LABELS = ("centralized", "sector_specific", "neutral")
SCOPES = ("horizontal", "targeted", "none")


def answers(paths: list[Path]) -> tuple[dict[str, dict], dict[str, dict]]:
    """``({sentence id: answer}, {document: answer})`` from answer files; first answer wins."""
    sentences: dict[str, dict] = {}
    documents: dict[str, dict] = {}
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                print(f"{path.name}:{number}: not JSON, skipped")
                continue
            if "doc" in row and row.get("scope") in SCOPES:
                documents.setdefault(row["doc"], row)
            elif "id" in row and row.get("role") in ROLES and row.get("label") in LABELS:
                sentences.setdefault(row["id"], row)
            else:
                print(f"{path.name}:{number}: unusable answer skipped: {line[:120]}")
    return sentences, documents


def _confidence(row: dict) -> str:
    return row.get("confidence") if row.get("confidence") in ("high", "low") else "low"


def _record(item: dict, ans: dict) -> dict:
    """The stand-off training record of one answered sheet item (no text: document and hash)."""
    return {
        "id": item["id"],
        "source": item["source"],
        "sha256": item["sha256"],
        "role": ans["role"],
        "label": ans["label"],
        "confidence": _confidence(ans),
    }


def write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {len(rows)} lines")


def collect_agora(out: Path, tasks: Path) -> None:
    index = [
        json.loads(line)
        for path in sorted(tasks.glob("agora*_index.jsonl"))
        for line in path.read_text().splitlines()
    ]
    first, docs = answers(
        sorted(out.glob("agora_[0-9]*.jsonl"))
        + sorted(out.glob("agora[0-9]_[0-9]*.jsonl"))
        + sorted(out.glob("scopes*.jsonl"))
    )
    rows, seen = [], set()
    for item in index:
        ans = first.get(item["id"])
        if ans is None or item["id"] in seen:
            continue
        seen.add(item["id"])
        rows.append(_record(item, ans))
    adjudicated, adjudicated_docs = (
        answers([out / "adjudicated.jsonl"]) if (out / "adjudicated.jsonl").exists() else ({}, {})
    )
    for row in rows:  # the adjudicator's decision replaces the first pass where the two passes disagreed
        if (ans := adjudicated.get(row["id"])) is not None:
            row.update(role=ans["role"], label=ans["label"], confidence=_confidence(ans), adjudicated=True)
    docs.update(adjudicated_docs)
    write(ANNOTATIONS / "agora" / "sentences.jsonl", rows)
    write(
        ANNOTATIONS / "agora" / "scopes.jsonl",
        [{"source": d, "scope": a["scope"], "confidence": _confidence(a)} for d, a in sorted(docs.items())],
    )
    print("  missing sentence answers:", len({i["id"] for i in index} - seen))
    if (out / "second.jsonl").exists():
        by_id = {i["id"]: i for i in index}
        second, second_docs = answers([out / "second.jsonl"])
        write(
            ANNOTATIONS / "agora" / "second_pass" / "sentences.jsonl",
            [
                {
                    "id": sid,
                    "source": by_id[sid]["source"],
                    "sha256": by_id[sid]["sha256"],
                    "role": a["role"],
                    "label": a["label"],
                    "confidence": _confidence(a),
                }
                for sid, a in sorted(second.items())
                if sid in by_id
            ],
        )
        write(
            ANNOTATIONS / "agora" / "second_pass" / "scopes.jsonl",
            [
                {"source": d, "scope": a["scope"], "confidence": _confidence(a)}
                for d, a in sorted(second_docs.items())
            ],
        )


def collect_real(out: Path) -> None:
    old = ANNOTATIONS / "eval" / "real" / "labels.jsonl"
    if not old.exists():
        old = ANNOTATIONS / "real" / "labels.jsonl"
    previous = [json.loads(line) for line in old.read_text().splitlines() if line.strip()]
    first, docs = answers(sorted(out.glob("real_[0-9]*.jsonl")))
    if not first:
        return
    rows = []
    for row in previous:
        ans = first.get(row["id"])
        if ans is None:
            continue
        rows.append(
            {
                "id": row["id"],
                "source": row["source"],
                "sha256": row["sha256"],
                "role": ans["role"],
                "label": ans["label"],
                "confidence": _confidence(ans),
                "label_v1": row.get("label_v1", row["label"]),
            }
        )
    print("  real sentences without a v2 answer:", len(previous) - len(rows))
    write(ANNOTATIONS / "eval" / "real" / "labels.jsonl", rows)
    write(
        ANNOTATIONS / "eval" / "real" / "scopes.jsonl",
        [{"source": d, "scope": a["scope"], "confidence": _confidence(a)} for d, a in sorted(docs.items())],
    )


def collect_written(out: Path) -> None:
    first, _ = answers(sorted(out.glob("written_[0-9]*.jsonl")))
    if not first:
        return
    changed = Counter()
    for path in sorted((ANNOTATIONS / "sentences").glob("batch_*.jsonl")):
        lines = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            ans = first.get(row["id"])
            if ans is not None and ans.get("scope") in SCOPES:
                row.setdefault("label_v1", row["label"])
                row["label"] = ans["label"]
                row["role"] = ans["role"]
                row["scope"] = ans["scope"]
                row["confidence"] = _confidence(ans)
                changed[row["label"] != row["label_v1"]] += 1
            lines.append(json.dumps(row, ensure_ascii=False))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(
        f"written sentences relabelled: {sum(changed.values())}, v2 label differs from v1.1: {changed[True]}"
    )


def append_round(out: Path, tasks: Path, round_: int) -> None:
    """Add one round's sentence answers to the committed training labels (earlier rows kept)."""
    path = ANNOTATIONS / "agora" / "sentences.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    have = {r["id"] for r in rows}
    index = [json.loads(line) for line in (tasks / f"agora{round_}_index.jsonl").read_text().splitlines()]
    given, _ = answers(sorted(out.glob(f"agora{round_}_[0-9]*.jsonl")))
    added: list[dict] = []
    for item in index:  # a sentence repeated word for word in its document has one id: keep it once
        if item["id"] in given and item["id"] not in have:
            have.add(item["id"])
            added.append(_record(item, given[item["id"]]))
    write(path, rows + added)
    unanswered = len({i["id"] for i in index} - set(given))
    print(f"  round {round_}: {len(added)} added, {unanswered} of its sheet unanswered")
    print("  roles:", Counter(r["role"] for r in added), "labels:", Counter(r["label"] for r in added))


def collect_written_documents(out: Path, tasks: Path, writers: Path | None) -> None:
    """The written documents' answers -> ``documents/sentences.jsonl`` and ``scopes.jsonl``.

    Sheets and answers may sit in batch subfolders (``tasks/b1/written_docs_index.jsonl``,
    ``out/b1/written_docs_0.jsonl``); ``out/second/`` holds an independent second pass, and
    ``writers`` the writers' own ``*/scopes.jsonl`` (``{"doc", "scope"}``), a second pass on
    the scopes. Both go to ``documents/second_pass/``."""
    folder = ANNOTATIONS / "documents"
    index = [json.loads(line) for path in sorted(tasks.glob("**/written_docs_index.jsonl"))
             for line in path.read_text().splitlines()]
    first = sorted(p for p in out.glob("**/written_docs_[0-9]*.jsonl") if "second" not in p.parts)
    given, docs = answers(first)
    rows = [_record(item, given[item["id"]]) for item in index if item["id"] in given]
    write(folder / "sentences.jsonl", rows)
    write(folder / "scopes.jsonl",
          [{"source": d, "scope": a["scope"], "confidence": _confidence(a)} for d, a in sorted(docs.items())])
    print(f"  unanswered sentences: {len({i['id'] for i in index} - set(given))}; "
          f"documents without a scope: {len({i['source'] for i in index} - set(docs))}")
    print("  roles:", Counter(r["role"] for r in rows), "labels:", Counter(r["label"] for r in rows))
    if (out / "second").is_dir():
        by_id = {i["id"]: i for i in index}
        second, second_docs = answers(sorted((out / "second").glob("written_docs_[0-9]*.jsonl")))
        write(folder / "second_pass" / "sentences.jsonl",
              [_record(by_id[sid], a) for sid, a in sorted(second.items()) if sid in by_id])
        write(folder / "second_pass" / "scopes.jsonl",
              [{"source": d, "scope": a["scope"], "confidence": _confidence(a)}
               for d, a in sorted(second_docs.items())])
    if writers is not None:
        scopes = []
        for path in sorted(writers.glob("*/scopes.jsonl")):
            tag = path.parent.name.lower()
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip() and (row := json.loads(line)).get("scope") in SCOPES:
                    source = f"docs/{tag}-{row['doc']}"
                    if source in docs:  # documents kept in the repository only
                        scopes.append({"source": source, "scope": row["scope"]})
        write(folder / "second_pass" / "writer_scopes.jsonl", sorted(scopes, key=lambda r: r["source"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=Path, default=Path("/tmp/annot/out"))
    parser.add_argument("--tasks", type=Path, default=Path("/tmp/annot/tasks"))
    parser.add_argument("--round", type=int, help="only add this round's answers to agora/sentences.jsonl")
    parser.add_argument("--written-documents", action="store_true",
                        help="only collect the answers on the written documents (documents/)")
    parser.add_argument("--writers", type=Path, help="the writers' folders, for their own scopes")
    args = parser.parse_args()
    if args.written_documents:
        collect_written_documents(args.answers, args.tasks, args.writers)
        return
    if args.round:
        append_round(args.answers, args.tasks, args.round)
        return
    collect_agora(args.answers, args.tasks)
    collect_real(args.answers)
    collect_written(args.answers)


if __name__ == "__main__":
    main()
