"""Tagging a long document in forked workers gives exactly the sentences of one process."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
from spacy.language import Language
from typer.testing import CliRunner

from policylens.cli import app
from policylens.nlp import load_pipeline, tag_text
from policylens.nlp import pipeline as pipeline_module
from policylens.nlp.fork import decode, encode, run_parts, split_points
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
    parts_seen: list[int] = []
    real_run_parts = pipeline_module.run_parts

    def counting(jobs):  # type: ignore[no-untyped-def]
        parts_seen.append(len(jobs))
        return real_run_parts(jobs)

    monkeypatch.setattr(pipeline_module, "run_parts", counting)
    whole = tag_text(text, nlp=nlp, workers=1)
    split = tag_text(text, nlp=nlp, workers=2)
    three = tag_text(text, nlp=nlp, workers=3)
    assert parts_seen == [1, 2, 3]  # the document really was cut in two and in three
    assert len(whole.sentences) > 1000
    assert split == whole
    assert three == whole
    assert [s.sentence_id for s in split.sentences] == list(range(len(whole.sentences)))
    assert len({s.label for s in whole.sentences}) > 1  # a test of sentences that differ


def test_short_documents_are_not_split(nlp: Language, monkeypatch: pytest.MonkeyPatch) -> None:
    parts_seen: list[int] = []
    real_run_parts = pipeline_module.run_parts
    monkeypatch.setattr(pipeline_module, "run_parts",
                        lambda jobs: parts_seen.append(len(jobs)) or real_run_parts(jobs))
    tagged = tag_text(long_text(paragraphs=20), nlp=nlp, workers=2)
    assert tagged.sentences and parts_seen == [1]


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


def test_a_failing_worker_costs_time_not_sentences() -> None:
    parent = os.getpid()
    made = TaggedSentence(doc="d", sentence_id=0, text="made here", label="neutral",
                          probs={"centralized": 0.0, "sector_specific": 0.0, "neutral": 1.0})

    def fails_in_a_worker() -> list[TaggedSentence]:
        if os.getpid() != parent:
            raise RuntimeError("worker broke")
        return [made]

    def first() -> list[TaggedSentence]:
        return []

    assert run_parts([first, fails_in_a_worker]) == [[], [made]]


def test_worker_results_come_from_the_worker() -> None:
    def where() -> list[TaggedSentence]:
        return [TaggedSentence(doc="d", sentence_id=0, text=str(os.getpid()), label="neutral",
                               probs={"centralized": 0.0, "sector_specific": 0.0, "neutral": 1.0})]

    here, there = run_parts([where, where])
    assert here[0].text == str(os.getpid())
    assert there[0].text != str(os.getpid())  # a control: the second part did run elsewhere


@pytest.mark.parametrize(("sizes", "parts", "step", "expected"), [
    ([1] * 1000, 2, 128, [512]),
    ([1] * 1000, 3, 128, [384, 640]),
    ([1] * 100, 2, 128, []),  # fewer than two batches: nothing to split
    ([10] * 256 + [1] * 256, 2, 128, [128]),  # balanced by size, not by count
    ([1] * 300, 1, 128, []),
])
def test_split_points_fall_on_batch_boundaries(sizes: list[int], parts: int, step: int,
                                               expected: list[int]) -> None:
    assert split_points(sizes, parts, step=step) == expected
