"""Export the role encoder's training inputs to a JSONL file OUTSIDE the repository.

Usage (in the project's venv)::

    python scripts/role_encoder_data.py --documents ../shared/corpus --out /tmp/role_inputs.jsonl

One line per labelled sentence: ``id``, ``source`` ("" for a written sentence),
``split`` (``train`` / ``heldout``: free AGORA documents and the project's written
documents (``corpora/annotations/documents``, ``set`` "written") by ``heldout_document``,
written sentences by ``split_of``), ``role``, and the encoder's input parts
``section``, ``prev``, ``text`` (the sentence with its context as ``policylens tag``
reads it), plus ``linear``: the shipped role model's probabilities, for comparing
and combining, and for sentences of documents ``label``, ``content`` (the content model's
probabilities), ``scope`` (the document's gold scope) and ``scope_probs`` (the scope
model's, read from the linear roles), so that a role's effect on the composed label
can be scored on the held-out documents (``role_encoder_combine.py``). The file
holds real text: it must stay out of the repository (the default output is under
/tmp). Evaluation-only documents are refused.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from policylens.labels import ROLES
from policylens.nlp.annotations import load_annotations, split_of
from policylens.nlp.evaluate_parts import Models
from policylens.nlp.labelled import (
    documents_root,
    evaluation_sources,
    heldout_document,
    load_scopes,
    load_sentence_labels,
    read_document,
    refuse_evaluation,
    written_documents_dir,
    written_examples,
)
from policylens.nlp.model import GovernanceModel, default_model_dir
from policylens.nlp.pipeline import build_pipeline
from policylens.nlp.role import RoleModel
from policylens.nlp.scope import ScopeModel

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--standoff", type=Path, default=ROOT / "corpora" / "annotations" / "agora")
    parser.add_argument("--written-documents", type=Path, default=written_documents_dir(),
                        help="the project's written documents, labelled stand-off (their own documents)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/role_inputs.jsonl"))
    args = parser.parse_args()
    if args.out.resolve().is_relative_to(ROOT):
        raise SystemExit("the export holds real text: write it outside the repository")
    model_dir = default_model_dir()
    models = Models(GovernanceModel.load(model_dir), RoleModel.load(model_dir), ScopeModel.load(model_dir))
    nlp = build_pipeline(classifier=False)
    out: list[dict] = []
    for name, folder in (("agora", args.standoff), ("written", args.written_documents)):
        labels = load_sentence_labels(folder / "sentences.jsonl")
        scopes = load_scopes(folder / "scopes.jsonl")
        root = documents_root(folder, args.documents)
        refuse_evaluation((r["source"] for r in labels), evaluation_sources(args.documents),
                          folder / "sentences.jsonl")
        by_source: dict[str, list[dict]] = {}
        for row in labels:
            by_source.setdefault(row["source"], []).append(row)
        for n, (source, group) in enumerate(sorted(by_source.items())):
            doc = read_document(root / source, nlp, source=source)
            content = models.content_probs(doc.content_rows)
            roles = models.role_probs(doc.role_rows, content)
            scope_probs = models.scope_of(doc)
            for row in group:
                i = doc.index.get(row["sha256"])
                if i is None:
                    continue
                out.append({"id": row["id"], "source": source, "set": name,
                            "split": "heldout" if heldout_document(source) else "train",
                            "role": row["role"], "section": doc.sections[i],
                            "prev": doc.texts[i - 1] if i else "", "text": doc.texts[i],
                            "linear": [round(roles[i][r], 5) for r in ROLES], "label": row["label"],
                            "content": content[i], "scope": scopes.get(source), "scope_probs": scope_probs})
            if n % 50 == 0:
                print(name, n, len(out), flush=True)
    written = written_examples(load_annotations(None), nlp)
    contents = models.content_probs([e.content_row for e in written])
    linear = models.role_probs([e.role_row for e in written], contents)
    texts = {a.id: a.text for a in load_annotations(None)}
    for e, p in zip(written, linear, strict=True):
        out.append({"id": e.id, "source": "", "set": "sentences", "split": split_of(e.id), "role": e.role,
                    "section": "", "prev": "", "text": texts[e.id],
                    "linear": [round(p[r], 5) for r in ROLES]})
    with args.out.open("w", encoding="utf-8") as fh:
        for row in out:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(out)} sentences -> {args.out}")


if __name__ == "__main__":
    main()
