"""Sample policy text written for policylens' tests (our own words), and helpers to compare words."""

from __future__ import annotations

import difflib
import re

_SUBJECTS = ["The coordinating office", "Each sector regulator", "A provider of a scoring tool",
             "The national registry", "Every deploying agency", "The review panel"]
_VERBS = ["shall publish", "must keep", "may request", "shall review", "must report", "should share"]
_OBJECTS = ["a yearly summary of incidents", "the logs of every automated decision",
            "evidence of testing before deployment", "the criteria used to rank applicants",
            "a plain account of known limitations", "the contact details of a responsible person"]
_TAILS = ["within thirty days.", "before the tool is used on the public.", "when asked by the panel.",
          "in a form that citizens can read.", "unless a shorter period is set by decree.",
          "together with the opinion of the affected sector."]


def sentence(i: int) -> str:
    return (f"{_SUBJECTS[i % 6]} {_VERBS[(i // 6) % 6]} {_OBJECTS[(i // 2) % 6]} "
            f"{_TAILS[(i * 5 + 1) % 6]}")


def paragraph(start: int, n: int = 4) -> str:
    return " ".join(sentence(i) for i in range(start, start + n))


def words_of(text: str) -> list[str]:
    return re.findall(r"\S+", text)


def word_ratio(expected: str, actual: str) -> float:
    """difflib similarity of the two word sequences (1.0 = same words in the same order)."""
    return difflib.SequenceMatcher(None, words_of(expected), words_of(actual), autojunk=False).ratio()


def source_text(paragraphs: list[str]) -> str:
    """The words a perfect extractor returns for factory paragraphs (markers and forced breaks resolved)."""
    out = []
    for para in paragraphs:
        para = para[2:] if para.startswith("# ") else para
        para = para.replace("regu-\n", "regu").replace("-\n", "-").replace("\n", " ")
        para = re.sub(r"\^\d+\+?", "", para)  # footnote references are dropped from the text
        out.append(para)
    return " ".join(out)
