"""Tagging a long document in forked workers gives exactly the sentences of one process."""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

import pytest
from spacy.language import Language
from typer.testing import CliRunner

from policylens.cli import app
from policylens.nlp import load_pipeline, tag_text
from policylens.nlp import pipeline as pipeline_module
from policylens.nlp.fork import decode, encode, run_chunks
from policylens.nlp.types import Cue, Facets, TaggedSentence

runner = CliRunner()

SUBJECTS = ["The national AI office", "Each sector regulator", "The financial supervisor",
            "A single central authority", "The health ministry", "Local transport agencies",
            "The data protection board", "Providers of high-risk systems"]
VERBS = ["shall register", "will oversee", "may issue guidance on", "must report on",
         "should coordinate the rules for", "will license", "can audit", "is to review"]
OBJECTS = ["all AI systems placed on the market", "models used in its own sector",
           "automated decisions about credit", "medical devices that learn",
           "the risks of driverless vehicles", "every general-purpose model",
           "public procurement of algorithms", "incidents within thirty days"]
TAILS = ["", " across the whole economy", " under existing sectoral law",
         " rather than through a new regulator", " in line with the common principles"]


def long_text(seed: int = 7, paragraphs: int = 420) -> str:
    """Our own generated policy-like prose, headings included, well over ``SPLIT_MIN_CHARS``."""
    rng = random.Random(seed)
    parts: list[str] = []
    for p in range(paragraphs):
        if p % 25 == 0:
            parts.append(f"Part {p // 25 + 1} Oversight of {rng.choice(OBJECTS).split()[-1]}")
        sentences = [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(TAILS)}."
                     for _ in range(rng.randint(1, 5))]
        parts.append(" ".join(sentences))
    return "\n\n".join(parts)


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_pipeline()


@pytest.fixture(scope="module")
def text() -> str:
    text = long_text()
    assert len(text) >= pipeline_module.SPLIT_MIN_CHARS
    return text


def test_split_tagging_gives_the_same_sentences_as_one_process(nlp: Language, text: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []
    real_run_chunks = pipeline_module.run_chunks

    def counting(n_chunks, job, *, workers):  # type: ignore[no-untyped-def]
        calls.append((n_chunks, workers))
        return real_run_chunks(n_chunks, job, workers=workers)

    monkeypatch.setattr(pipeline_module, "run_chunks", counting)
    whole = tag_text(text, nlp=nlp, workers=1)
    split = tag_text(text, nlp=nlp, workers=2)
    three = tag_text(text, nlp=nlp, workers=3)
    assert [workers for _, workers in calls] == [2, 3]  # the document really was shared out
    assert calls[0][0] > 3
    assert len(whole.sentences) > 1000
    assert split == whole
    assert three == whole
    assert [s.sentence_id for s in split.sentences] == list(range(len(whole.sentences)))
    assert len({s.label for s in whole.sentences}) > 1  # a test of sentences that differ


def test_short_documents_are_not_split(nlp: Language, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real_run_chunks = pipeline_module.run_chunks
    monkeypatch.setattr(pipeline_module, "run_chunks", lambda n, job, *, workers: calls.append(n)
                        or real_run_chunks(n, job, workers=workers))
    tagged = tag_text(long_text(paragraphs=20), nlp=nlp, workers=2)
    assert tagged.sentences and calls == []


def test_cli_output_is_byte_identical_with_one_and_two_workers(text: str, tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text(text, encoding="utf-8")
    one = runner.invoke(app, ["tag", str(path), "--format", "jsonl", "--workers", "1"])
    two = runner.invoke(app, ["tag", str(path), "--format", "jsonl", "--workers", "2"])
    assert one.exit_code == 0 and two.exit_code == 0, one.output + two.output
    assert one.stdout == two.stdout
    assert len(one.stdout.splitlines()) > 1000
    assert json.loads(one.stdout.splitlines()[-1])["sentence_id"] == len(one.stdout.splitlines()) - 1


def test_encode_decode_keeps_every_field_exactly() -> None:
    sentence = TaggedSentence(
        doc="d.txt", sentence_id=3, text="Ünïcode “quotes” and a tab\there.", label="centralized",
        probs={"centralized": 0.1 + 0.2, "sector_specific": 1 / 3, "neutral": 1e-17},
        cues=(Cue(text="single authority", approach="centralized", negated=True, start=4, end=20),),
        facets=Facets(sector=("finance",), level=("national",), instrument=(), style=("binding",)),
        page=2, section="Part 1", role="provision",
        role_probs={"architecture": 0.25, "provision": 0.7000000000000001, "other": 0.04999999999999999},
        content=None)
    other = TaggedSentence(doc="d.txt", sentence_id=4, text="x", label="neutral",
                           probs={"centralized": 0.0, "sector_specific": 0.0, "neutral": 1.0},
                           content={"centralized": 0.123456789012345, "sector_specific": 0.0,
                                    "neutral": 0.876543210987655})
    assert decode(encode([sentence, other])) == [sentence, other]
    assert decode(encode([])) == []


def sentence(text: str) -> TaggedSentence:
    return TaggedSentence(doc="d", sentence_id=0, text=text, label="neutral",
                          probs={"centralized": 0.0, "sector_specific": 0.0, "neutral": 1.0})


def test_a_failing_worker_costs_time_not_sentences() -> None:
    parent = os.getpid()

    def fails_in_a_worker(i: int) -> list[TaggedSentence]:
        if os.getpid() != parent:
            raise RuntimeError("worker broke")
        return [sentence(f"chunk {i}")]

    assert run_chunks(6, fails_in_a_worker, workers=2) == [[sentence(f"chunk {i}")] for i in range(6)]


def test_every_chunk_once_in_order_and_some_from_the_worker() -> None:
    def where(i: int) -> list[TaggedSentence]:
        time.sleep(0.01)  # both processes get to claim chunks
        return [sentence(f"{i} {os.getpid()}")]

    chunks = run_chunks(20, where, workers=2)
    assert [int(c[0].text.split()[0]) for c in chunks] == list(range(20))
    pids = {c[0].text.split()[1] for c in chunks}
    assert str(os.getpid()) in pids
    assert len(pids) == 2  # a control: some chunks were tagged in the worker
    alone = run_chunks(3, where, workers=1)
    assert {c[0].text.split()[1] for c in alone} == {str(os.getpid())}
