"""The per-document extraction quality verdict: can a researcher trust this text?"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from policylens.extract.document import Quality, Verdict

_GARBLED = re.compile("[\ufffd\ufffe\uffff\ue000-\uf8ff\x00-\x08\x0b\x0c\x0e-\x1f]")
_NOT_A_WORD = re.compile(r"https?:|www\.|@|/|\\|_|\.\w+\.|\d{6,}")
LONG_WORD = 25  # letters: longer "words" are usually several words missing their spaces


def garbled_share(text: str) -> float:
    """Share of non-space characters that are replacement, private-use or control characters."""
    if _GARBLED.search(text) is None:  # the usual case, without building any list
        return 0.0
    chars = len("".join(text.split()))
    return len(_GARBLED.findall(text)) / chars if chars else 0.0


def long_word_share(text: str) -> float:
    """Share of words longer than ``LONG_WORD`` characters that are not URLs, paths or codes."""
    words = text.split()  # the maximal runs of non-space characters
    if not words:
        return 0.0
    # The cheap length test first (a regex for long runs retries inside every word).
    candidates = [w for w in words if len(w) > LONG_WORD]
    long = sum(1 for w in candidates
               if len(w.strip(".,;:()[]\"'")) > LONG_WORD and not _NOT_A_WORD.search(w))
    return long / len(words)


def page_ranges(pages: Iterable[int]) -> str:
    """``[1, 2, 3, 7]`` → ``"1-3, 7"``."""
    out: list[str] = []
    items = sorted(set(pages))
    i = 0
    while i < len(items):
        j = i
        while j + 1 < len(items) and items[j + 1] == items[j] + 1:
            j += 1
        out.append(str(items[i]) if i == j else f"{items[i]}-{items[j]}")
        i = j + 1
    return ", ".join(out)


def assess(text: str, *, n_pages: int, empty_pages: Sequence[int] = (),
           scrambled_pages: Sequence[int] = ()) -> Quality:
    """Judge one document from its final text and what the readers saw per page."""
    issues: list[str] = []
    coverage = (n_pages - len(empty_pages)) / n_pages if n_pages else 1.0
    if empty_pages:
        issues.append(f"no text layer on pages {page_ranges(empty_pages)}")
    garbled = garbled_share(text)
    if garbled > 0.005:
        issues.append(f"garbled encoding: {garbled:.1%} of characters are replacement or private-use")
    long = long_word_share(text)
    if long > 0.005:
        issues.append(f"missing spaces: {long:.1%} of words are longer than {LONG_WORD} letters")
    if scrambled_pages:
        issues.append(f"possible column scrambling on pages {page_ranges(scrambled_pages)}")
    verdict: Verdict
    if coverage < 0.5 or garbled > 0.05 or long > 0.03:
        verdict = "poor"
    elif issues:
        verdict = "fair"
    else:
        verdict = "good"
    return Quality(verdict=verdict, text_coverage=coverage, empty_pages=tuple(sorted(empty_pages)),
                   issues=tuple(issues))
