"""Build a teacher file for ``policylens train --part structure --teacher FILE``.

Usage (in the project's venv, with the encoder extra installed)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python scripts/role_teacher.py \\
        --documents ../shared/corpus --out /tmp/role_teacher.json.gz --sentences 30000

Reads the free AGORA documents (``DOCUMENTS/agora/fulltext``) that are neither
evaluation-only (``eval_documents.txt``) nor held out (``labelled.heldout_document``),
segments each one as training does (``labelled.read_document``), draws a seeded sample of
their sentences that carry no gold label in ``corpora/annotations/agora``, and runs the
fine-tuned role encoder (``models/role_encoder``) on each, read with its section heading
and previous sentence as at tagging time. The file (gzip JSON, no text: each sentence is
named by its document and the SHA-256 of its text, like a stand-off label) holds the
encoder's role probabilities; ``train_tagger.load_teacher`` reads it. The encoder was
trained on the training split only, so no held-out or evaluation document reaches the
role model through it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time
from pathlib import Path

from policylens.labels import ROLES
from policylens.nlp.encoder import RoleEncoder
from policylens.nlp.labelled import (
    evaluation_sources,
    heldout_document,
    load_sentence_labels,
    read_document,
)
from policylens.nlp.pipeline import build_pipeline
from policylens.nlp.role_encoder import default_encoder_dir
from policylens.nlp.standoff import sentence_sha256
from policylens.nlp.train_tagger import TEACHER_FORMAT

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--standoff", type=Path, default=ROOT / "corpora" / "annotations" / "agora")
    parser.add_argument("--encoder", type=Path, default=None, help="encoder folder (default: bundled)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/role_teacher.json.gz"))
    parser.add_argument("--sentences", type=int, default=30000, help="how many sentences to label")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.monotonic()
    evaluation = evaluation_sources(args.documents)
    gold: dict[str, set[str]] = {}
    for row in load_sentence_labels(args.standoff / "sentences.jsonl"):
        gold.setdefault(row["source"], set()).add(row["sha256"])
    folder = args.documents / "agora" / "fulltext"
    sources = sorted(
        s for s in (f"agora/fulltext/{p.name}" for p in folder.iterdir() if p.is_file())
        if s not in evaluation and not heldout_document(s)
    )
    nlp = build_pipeline(classifier=False)
    pool: list[tuple[str, str, tuple[str, str, str]]] = []  # (source, sha256, encoder input)
    for n, source in enumerate(sources):
        doc = read_document(args.documents / source, nlp, source=source)
        seen: set[str] = set()
        for i, text in enumerate(doc.texts):
            sha = sentence_sha256(text)
            if sha in gold.get(source, ()) or sha in seen:  # labelled, or a repeat of one drawn
                continue
            seen.add(sha)
            pool.append((source, sha, (doc.sections[i], doc.texts[i - 1] if i else "", text)))
        if n % 100 == 0:
            print(f"read {n}/{len(sources)} documents, {len(pool)} sentences, "
                  f"{time.monotonic() - started:.0f} s", flush=True)
    read_s = time.monotonic() - started
    chosen = sorted(random.Random(args.seed).sample(range(len(pool)), min(args.sentences, len(pool))))
    encoder = RoleEncoder.load(args.encoder or default_encoder_dir())
    rows: list[dict[str, object]] = []
    step = 2000
    for start in range(0, len(chosen), step):
        part = [pool[k] for k in chosen[start:start + step]]
        probs = encoder.predict([case for _, _, case in part])
        rows += [{"source": s, "sha256": h, "probs": [round(float(p), 5) for p in row]}
                 for (s, h, _), row in zip(part, probs.tolist(), strict=True)]
        print(f"encoded {len(rows)}/{len(chosen)}, {time.monotonic() - started:.0f} s", flush=True)
    data = {"format": TEACHER_FORMAT, "roles": list(ROLES), "encoder": encoder.version,
            "documents": len({r["source"] for r in rows}), "pool": len(pool), "seed": args.seed,
            "sentences": rows}
    # mtime 0: the same sentences and probabilities give the same bytes
    args.out.write_bytes(gzip.compress(json.dumps(data).encode("utf-8"), mtime=0))
    print(f"{len(rows)} sentences of {data['documents']} documents (of {len(pool)} unlabelled) "
          f"-> {args.out}; reading {read_s:.0f} s, all {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
