"""Repairing words broken across lines: "regu-" + "lation" → "regulation", but "cross-sector" stays.

The decision uses the document itself as the dictionary: a hyphenated compound
seen elsewhere keeps its hyphen; a joined form seen elsewhere is joined; when
either part is not a word of the document on its own, the break was a
typesetter's hyphen and the parts are joined. Only when both parts are words
(and the joined form is unknown) is the hyphen kept: "risk-" + "based".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_TOKEN = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
_LEADING_LETTERS = re.compile(r"^[^\W\d_]+")
_TRAILING_LETTERS = re.compile(r"[^\W\d_]+$")
# Left halves that are words in their own right even when a short document never uses them alone.
_COMPOUND_HEADS = frozenset({
    "cross", "non", "multi", "self", "high", "low", "well", "co", "long", "short", "large", "small",
    "full", "third", "state", "open", "fine", "real", "decision", "general", "sector", "risk",
})


class Hyphenation:
    """The document's vocabulary, and the join-or-keep rule that uses it."""

    def __init__(self) -> None:
        self.words: set[str] = set()
        self.compounds: set[str] = set()
        self._seen: set[str] = set()  # raw tokens already learned (pages repeat most words)
        self._seen_chunks: set[str] = set()  # whitespace-separated chunks already learned

    def add_text(self, text: str, *, skip_first: bool = False, skip_last: bool = False) -> None:
        """Learn the words of one line; ``skip_*`` leaves out halves of a broken word."""
        tokens = _TOKEN.findall(text)
        if skip_first and tokens:
            tokens = tokens[1:]
        if skip_last and tokens:
            tokens = tokens[:-1]
        self._learn(tokens)

    def add_lines(self, lines: Iterable[str]) -> None:
        """Learn the words of many lines at once (one regex pass over the unbroken ones)."""
        self.add_pages([lines])

    def add_pages(self, pages: Iterable[Iterable[str]]) -> None:
        """``add_lines`` for each page's lines in turn (a broken word does not carry over a page
        break), with one split and one regex pass over all of them."""
        plain: list[str] = []
        edge_tokens: list[str] = []  # tokens of the first and last chunks of broken lines
        for lines in pages:
            broken = False
            for line in lines:
                ends_broken = line.endswith("-")
                if broken or ends_broken:
                    # Learning is a set union, so a broken line's inner chunks join the plain text;
                    # only its first and last chunks need the regex here, to leave out the halves
                    # of the broken word (unless the halves lie further in: then the whole line).
                    parts = line.split()
                    head = _TOKEN.findall(parts[0]) if len(parts) > 2 else None
                    tail = _TOKEN.findall(parts[-1]) if head is not None else None
                    if head is None or tail is None or (broken and not head) or (ends_broken and not tail):
                        self.add_text(line, skip_first=broken, skip_last=ends_broken)
                    else:
                        edge_tokens += head[1:] if broken else head
                        edge_tokens += tail[:-1] if ends_broken else tail
                        plain.append(" ".join(parts[1:-1]))
                else:
                    plain.append(line)
                broken = ends_broken
        # Tokens never span whitespace, so the distinct whitespace-separated chunks hold the
        # same tokens as the whole text: the regex runs over each distinct chunk once.
        chunks = set(" ".join(plain).split())
        chunks -= self._seen_chunks
        self._seen_chunks |= chunks
        tokens = set(_TOKEN.findall("\n".join(chunks)))
        tokens.update(edge_tokens)
        self._learn(tokens - self._seen)
        self._seen |= tokens

    def _learn(self, tokens: Iterable[str]) -> None:
        for token in tokens:
            token = token.lower().strip("'’-")
            if "-" in token:
                self.compounds.add(token)
                self.words.update(part for part in token.split("-") if part)
            elif token:
                self.words.add(token)

    def join(self, left: str, right: str) -> str:
        """Join line ``left`` (ending in a hyphen) with line ``right``."""
        # Only the last word can end in letters: search from it (the left side may be a long
        # paragraph, and an end-anchored search tries every position).
        head_match = _TRAILING_LETTERS.search(left, left.rfind(" ", 0, len(left) - 1) + 1, len(left) - 1)
        tail_match = _LEADING_LETTERS.match(right)
        if head_match is None or tail_match is None or not tail_match.group()[0].islower():
            return f"{left}{right}"  # "non-" + "EU": a capitalised continuation keeps its hyphen
        head, tail = head_match.group().lower(), tail_match.group().lower()
        if self.keep_hyphen(head, tail):
            return f"{left}{right}"
        return f"{left[:-1]}{right}"

    def keep_hyphen(self, head: str, tail: str) -> bool:
        if f"{head}-{tail}" in self.compounds:
            return True
        if f"{head}{tail}" in self.words:
            return False
        head_is_word = head in self.words or head in _COMPOUND_HEADS
        return head_is_word and tail in self.words and len(tail) > 2


def join_lines(lines: list[str], hyphenation: Hyphenation | None) -> str:
    """Join wrapped lines of one paragraph with spaces, repairing line-end hyphens."""
    # Parts joined once at the end (adding to one string line by line is quadratic in long
    # paragraphs); a hyphen repair only needs the last part, which ends the text so far.
    parts: list[str] = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        last = parts[-1] if parts else ""
        if (hyphenation is not None and last.endswith("-") and len(last) > 1
                and last[-2].isalpha() and line[:1].isalpha()):
            parts[-1] = hyphenation.join(last, line)
        else:
            parts.append(line)
    return " ".join(parts)
