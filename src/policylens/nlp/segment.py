"""Sentence segmentation that survives legal text.

spaCy's blank English pipeline has no sentence boundaries at all, and its
``sentencizer`` splits after every full stop, which cuts legal text after
"Art.", "No." or the "1." of a numbered paragraph. This component decides each
boundary from the tokens around a full stop instead:

* a full stop after a known abbreviation ("Art", "No", "Sec", "para", "cf" ...)
  or after a single letter (initials, "(a).") is not a boundary;
* the "1." or "(iv)." that opens a numbered paragraph is not a boundary;
* a full stop followed by a lowercase word, a comma or a closing bracket is not
  a boundary ("e.g. the", "No. 3");
* a line break after a short line with no final punctuation ends a heading.

A document flagged as a heading (``doc.user_data["policylens_heading"]``) is one
sentence. Sentences longer than ``max_tokens`` are cut at the last ";" or ","
before the limit (or at the limit), so that a megabyte of text without a full
stop still yields bounded sentences.
"""

from __future__ import annotations

import numpy
from spacy.attrs import IS_SPACE, ORTH, SENT_START
from spacy.language import Language
from spacy.strings import get_string_id
from spacy.tokens import Doc

#: The token limit for one sentence (documented in docs/tagging.md).
MAX_SENTENCE_TOKENS = 200

HEADING_FLAG = "policylens_heading"

# Lowercased abbreviations (without their full stop) after which "." rarely ends a sentence.
ABBREVIATIONS = frozenset([
    "art", "arts", "no", "nos", "sec", "secs", "s", "ss", "para", "paras", "par", "subpara", "cf",
    "vs", "v", "viz", "al", "dr", "mr", "mrs", "ms", "prof", "reg", "regs", "dir", "fig", "figs",
    "eq", "ch", "chap", "vol", "vols", "pp", "p", "ed", "eds", "inc", "ltd", "co", "corp", "jr",
    "sr", "st", "approx", "est", "dept", "govt", "min", "max", "nr", "op", "ibid", "id", "annex",
    "app", "sch", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec"
])
_TERMINALS = frozenset({".", "!", "?"})
_TERMINAL_IDS = frozenset(get_string_id(t) for t in _TERMINALS)
_CLOSERS = frozenset({'"', "'", "”", "’", ")", "]"})
_ROMAN = frozenset([
    "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"
])
_SOFT_BREAKS = (";", ",", ":")


def _is_enumerator(text: str) -> bool:
    """True for the label of a numbered paragraph: "1", "12", "iv", "a", "3.2"."""
    t = text.lower().strip("()")
    return t.isdigit() or t in _ROMAN or (len(t) == 1 and t.isalpha()) or (
        t.replace(".", "").isdigit() and len(t) <= 8)


class LegalSentenceSegmenter:
    """Sets ``is_sent_start`` on every token, legal abbreviations and enumerations aware."""

    def __init__(self, *, max_tokens: int = MAX_SENTENCE_TOKENS) -> None:
        if max_tokens < 8:
            raise ValueError("max_tokens must be at least 8")
        self.max_tokens = max_tokens

    def __call__(self, doc: Doc) -> Doc:
        n = len(doc)
        if n == 0:
            return doc
        starts = [False] * n
        starts[0] = True
        if not doc.user_data.get(HEADING_FLAG):
            self._find_boundaries(doc, starts)
        self._cap_lengths(doc, starts)
        # One array write: the per-token setter re-checks the whole doc each time (quadratic).
        values = numpy.fromiter((1 if s else -1 for s in starts), dtype=numpy.int32, count=n)
        doc.from_array([SENT_START], values.astype(numpy.uint64).reshape(n, 1))  # type: ignore[arg-type]
        return doc

    def _find_boundaries(self, doc: Doc, starts: list[bool]) -> None:
        n = len(doc)
        sent_begin = 0
        # Token ids and space flags from one array: only spaces and terminals need their text.
        strings = doc.vocab.strings
        for i, (orth, space) in enumerate(doc.to_array([ORTH, IS_SPACE]).tolist()):
            if not space and orth not in _TERMINAL_IDS:
                continue
            text = strings[orth]
            if space:
                # A line break after a short unpunctuated line: a heading ends here.
                if "\n" in text and i + 1 < n and i > sent_begin and self._heading_line(doc, sent_begin, i):
                    starts[i + 1] = True
                    sent_begin = i + 1
                continue
            if text not in _TERMINALS:
                continue
            # Skip closing quotes/brackets that belong to this sentence.
            j = i + 1
            while j < n and (doc[j].text in _CLOSERS or doc[j].text in _TERMINALS):
                j += 1
            while j < n and doc[j].is_space:
                j += 1
            if j >= n:
                break
            if text == "." and not self._full_stop_ends(doc, i, j, sent_begin):
                continue
            starts[j] = True
            sent_begin = j

    @staticmethod
    def _full_stop_ends(doc: Doc, i: int, j: int, sent_begin: int) -> bool:
        prev = doc[i - 1] if i > 0 else None
        nxt = doc[j]
        if prev is not None and not prev.whitespace_:
            low = prev.lower_
            if low in ABBREVIATIONS or (len(low) == 1 and low.isalpha()):
                return False
            # "1." / "(iv)." opening a numbered paragraph.
            if i - sent_begin <= 3 and _is_enumerator(low):
                return False
        first = nxt.text[0]
        return not (first.islower() or first in ",;:)]")

    @staticmethod
    def _heading_line(doc: Doc, begin: int, end: int) -> bool:
        """A line of at most 12 words that ends without sentence punctuation."""
        words = [t for t in doc[begin:end] if not t.is_space]
        if not words or len(words) > 12:
            return False
        return words[-1].text not in _TERMINALS and words[-1].text not in _SOFT_BREAKS

    def _cap_lengths(self, doc: Doc, starts: list[bool]) -> None:
        limit = self.max_tokens
        begin = 0
        n = len(doc)
        i = 1
        while i < n:
            if starts[i]:
                begin = i
            elif i - begin >= limit:
                cut = i
                for k in range(i - 1, begin + limit // 2, -1):
                    if doc[k].text in _SOFT_BREAKS:
                        cut = k + 1
                        break
                starts[cut] = True
                begin = cut
                i = cut
            i += 1

    # Nothing to serialize: the component is configured by its factory settings.
    def to_disk(self, path: object, *, exclude: tuple[str, ...] = ()) -> None:
        return None

    def from_disk(self, path: object, *, exclude: tuple[str, ...] = ()) -> LegalSentenceSegmenter:
        return self


@Language.factory("policylens_sentences", default_config={"max_tokens": MAX_SENTENCE_TOKENS})
def make_segmenter(nlp: Language, name: str, *, max_tokens: int) -> LegalSentenceSegmenter:
    """Factory of the legal-text sentence segmenter."""
    return LegalSentenceSegmenter(max_tokens=max_tokens)
