"""Distilling the role encoder into the linear role model (``train --part structure --teacher``).

Nothing is mocked: soft rows go through the real ``fit_linear``, teacher files are real gzip
JSON files, the documents are our own sentences segmented by the real pipeline.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from policylens.cli import app
from policylens.errors import DataError
from policylens.labels import ROLES
from policylens.nlp.fit import SoftRows, fit_linear
from policylens.nlp.labelled import heldout_document, read_document
from policylens.nlp.pipeline import build_pipeline
from policylens.nlp.standoff import sentence_sha256
from policylens.nlp.train_tagger import TEACHER_FORMAT, _teacher_rows, load_teacher, train_structure

ROOT = Path(__file__).resolve().parents[1]
#: Our own sentences: a new office, duties of providers, and sentences of no role.
TEXT = ("Oversight\n\n"
        "A National Algorithm Authority is hereby established to supervise automated systems. "
        "Providers of high-risk systems shall keep the logs of their systems for six months. "
        "The programme receives ten million a year.\n\n"
        "Funding\n\n"
        "Its website lists the members of the board.")


def _source(held: bool) -> str:
    """A document path that ``heldout_document`` holds out (``held``) or puts in the training split."""
    return next(s for s in (f"agora/fulltext/{n}.txt" for n in range(1, 200)) if heldout_document(s) == held)


def _train_source() -> str:
    return _source(False)


def _held_source() -> str:
    return _source(True)


def _write_teacher(path: Path, rows: list[dict[str, object]], **extra: object) -> Path:
    data = {"format": TEACHER_FORMAT, "roles": list(ROLES), "encoder": "test", "sentences": rows, **extra}
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        json.dump(data, fh)
    return path


def _rows(words: list[str]) -> list[dict[str, float]]:
    return [{"w:" + w: 1.0, "w:common": 1.0} for w in words]


def test_soft_rows_teach_words_the_labelled_rows_never_saw() -> None:
    # labelled rows: "alpha" is class 0, "beta" class 1, "gamma" class 2; "delta" appears only in
    # the teacher's rows, which say class 1
    rows = _rows(["alpha", "beta", "gamma"] * 6)
    y = [0, 1, 2] * 6
    groups = [f"d{k % 6}" for k in range(len(rows))]
    plain = fit_linear(rows, y, 3, groups=groups, c_grid=(1.0,))
    assert "w:delta" not in plain.vocabulary
    soft = SoftRows(_rows(["delta"] * 4), np.tile([0.1, 0.85, 0.05], (4, 1)), ["t1", "t1", "t2", "t2"])
    taught = fit_linear(rows, y, 3, groups=groups, c_grid=(1.0,), soft=soft)
    col = taught.vocabulary["w:delta"]
    assert int(np.argmax(taught.coef[:, col])) == 1
    # the labelled rows alone are scored and give the prior: the soft rows do not count there
    assert taught.train_prior == plain.train_prior
    assert taught.oof.shape == (len(rows), 3)


def test_soft_rows_are_expanded_one_row_per_probable_label() -> None:
    soft = SoftRows(_rows(["a", "b"]), np.asarray([[0.995, 0.004, 0.001], [0.2, 0.3, 0.5]]), ["g", "h"],
                    weight=0.5)
    vocab = {"w:a": 0, "w:b": 1, "w:common": 2}
    x, y, w, g = soft.expanded(vocab)
    assert y.tolist() == [0, 0, 1, 2]
    np.testing.assert_allclose(w, [0.4975, 0.1, 0.15, 0.25])
    assert g.tolist() == ["g", "h", "h", "h"] and x.shape == (4, 3)
    with pytest.raises(DataError):
        SoftRows(_rows(["a"]), np.ones((2, 3)) / 3, ["g"]).expanded(vocab)


def test_a_teacher_file_of_an_evaluation_only_or_held_out_document_is_refused(tmp_path: Path) -> None:
    train = _train_source()
    good = {"source": train, "sha256": "0" * 64, "probs": [0.2, 0.3, 0.5]}
    path = _write_teacher(tmp_path / "t.json.gz", [good])
    assert load_teacher(path, set()).sources == [train]
    with pytest.raises(DataError, match="evaluation-only"):
        load_teacher(path, {train})
    held = _write_teacher(tmp_path / "h.json.gz", [good, {**good, "source": _held_source()}])
    with pytest.raises(DataError, match="held-out"):
        load_teacher(held, set())
    for bad in ({**good, "probs": [0.5, 0.5, 0.5]}, {**good, "probs": [1.0]}, {"source": train}):
        with pytest.raises(DataError, match="probabilities"):
            load_teacher(_write_teacher(tmp_path / "b.json.gz", [bad]), set())
    with pytest.raises(DataError, match="roles"):
        load_teacher(_write_teacher(tmp_path / "r.json.gz", [good], roles=["a", "b", "c"]), set())
    (tmp_path / "x.json").write_text('{"format": "other"}', encoding="utf-8")
    with pytest.raises(DataError, match="not a teacher file"):
        load_teacher(tmp_path / "x.json", set())


def test_training_refuses_the_teacher_file_of_an_evaluation_only_source(tmp_path: Path) -> None:
    source = _train_source()
    documents = tmp_path / "corpus"
    (documents / "agora" / "fulltext").mkdir(parents=True)
    (documents / source).write_text(TEXT, encoding="utf-8")
    (documents / "eval_documents.txt").write_text(source + "\n", encoding="utf-8")
    teacher = _write_teacher(tmp_path / "t.json.gz",
                             [{"source": source, "sha256": "0" * 64, "probs": [0.2, 0.3, 0.5]}])
    with pytest.raises(DataError, match="evaluation-only"):
        train_structure(documents=documents, standoff_dir=ROOT / "corpora" / "annotations" / "agora",
                        content_model=None, teacher=teacher)  # type: ignore[arg-type]
    result = CliRunner().invoke(app, ["train", "--part", "structure", "--documents", str(documents),
                                      "--teacher", str(teacher), "--out", str(tmp_path / "model")])
    assert result.exit_code != 0 and "evaluation-only" in result.output
    assert not (tmp_path / "model" / "role.json").exists()


def test_teacher_sentences_are_found_by_hash_and_gold_ones_skipped(tmp_path: Path) -> None:
    source = _train_source()
    path = tmp_path / "doc.txt"
    path.write_text(TEXT, encoding="utf-8")
    doc = read_document(path, build_pipeline(classifier=False), source=source)
    assert len(doc.texts) >= 5
    standoff = tmp_path / "standoff"
    standoff.mkdir()
    gold_text = doc.texts[1]
    (standoff / "sentences.jsonl").write_text(json.dumps(
        {"id": "g-1", "source": source, "sha256": sentence_sha256(gold_text), "role": "architecture",
         "label": "centralized"}) + "\n", encoding="utf-8")
    rows = [{"source": source, "sha256": sentence_sha256(t), "probs": p}
            for t, p in zip(doc.texts[1:4], ([0.9, 0.05, 0.05], [0.02, 0.95, 0.03], [0.3, 0.3, 0.4]),
                            strict=True)]
    rows.append({"source": source, "sha256": "f" * 64, "probs": [0.0, 0.0, 1.0]})  # not in the document
    taught = load_teacher(_write_teacher(tmp_path / "t.json.gz", rows), set())
    soft, card = _teacher_rows(taught, {source: doc}, [standoff], 0.3, None)
    assert card["skipped"] == {"gold": 1, "unmatched": 1} and card["sentences"] == 2
    assert soft.rows == [doc.role_rows[2], doc.role_rows[3]] and soft.weight == 0.3
    np.testing.assert_allclose(soft.probs, [[0.02, 0.95, 0.03], [0.3, 0.3, 0.4]])
    # confident-only: the unsure sentence goes, the sure one becomes a pseudo-label
    soft, card = _teacher_rows(taught, {source: doc}, [standoff], 1.0, 0.9)
    assert card["skipped"] == {"gold": 1, "unmatched": 1, "unsure": 1}
    np.testing.assert_allclose(soft.probs, [[0.0, 1.0, 0.0]])
    with pytest.raises(DataError, match="no sentence"):
        _teacher_rows(taught, {}, [standoff], 1.0, None)


def test_the_teacher_script_labels_unlabelled_training_sentences(tmp_path: Path) -> None:
    pytest.importorskip("tokenizers")
    pytest.importorskip("safetensors")
    import runpy
    import sys

    train, held = _train_source(), _held_source()
    documents = tmp_path / "corpus"
    (documents / "agora" / "fulltext").mkdir(parents=True)
    for source in (train, held, "agora/fulltext/eval.txt"):
        (documents / source).write_text(TEXT, encoding="utf-8")
    (documents / "eval_documents.txt").write_text("agora/fulltext/eval.txt\n", encoding="utf-8")
    standoff = tmp_path / "standoff"
    standoff.mkdir()
    (standoff / "sentences.jsonl").write_text("", encoding="utf-8")
    out = tmp_path / "teacher.json.gz"
    argv = sys.argv
    sys.argv = ["role_teacher.py", "--documents", str(documents), "--standoff", str(standoff),
                "--out", str(out), "--sentences", "3"]
    try:
        runpy.run_path(str(ROOT / "scripts" / "role_teacher.py"), run_name="__main__")
    finally:
        sys.argv = argv
    taught = load_teacher(out, {"agora/fulltext/eval.txt"})
    assert taught.sources == [train] * 3  # neither the held-out nor the evaluation-only document
    np.testing.assert_allclose(taught.probs.sum(axis=1), 1.0, atol=1e-4)
