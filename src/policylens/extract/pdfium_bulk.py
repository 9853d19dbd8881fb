"""A page's lines from pdfium with the per-word arithmetic done on whole arrays.

``pdfium_reader`` reads a page word by word: for each word it asks pdfium for the loose
boxes of its first and last characters, then works out its edges and size, and
``lines.fragments`` splits each line at gutter-sized gaps. That Python step per word
(a few microseconds) cost as much as pdfium's own reading of the page. Here the same
decisions are taken for a whole page at once:

* the words are found from the page's UTF-16 code units (a lookup table of separators)
  and their texts from one ``str.split``;
* the boxes of every word's first and last characters are asked in one ``map`` each,
  straight into one ctypes array that numpy reads in place;
* the edges, sizes, gaps and baseline jumps of all words are numpy expressions, and the
  line fragments' edges are ``reduceat`` reductions;
* Python runs once per pdfium line and once per fragment, not once per word.

The result is meant to be exactly what the word-by-word reader returns (the tests and
``bench`` compare the two), so the rare cases that need more care are handed back to it:
``read_lines`` returns ``None`` for a page with a font whose ascent and descent are
broken, and a line that may hold a raised footnote reference after a word (a word set
smaller than the one before it) goes through ``Word`` objects and ``fragments``.
On a page with ruled tables the words inside them go to the tables, as
``tables.route_words`` sends them, and no line is taken whole. The caller only uses this
path for pages whose text indices are character indices (no characters outside the BMP).
"""

from __future__ import annotations

import ctypes
import itertools
from collections import deque
from typing import Any, ClassVar

import numpy as np
import pypdfium2.raw as raw

from policylens.extract.lines import GUTTER_EMS, Line, Word, fragments
from policylens.extract.pdfium_calls import unchecked
from policylens.extract.tables import TableArea

_LOOSE_EM = 1.15  # as in pdfium_reader: a loose box spans about 1.15 em
_SOFT_HYPHEN, _OLD_SOFT_HYPHEN = 0xFFFE, 0x02
# Which UTF-16 code units separate words: what ``str.split()`` splits at (all of it lies
# below U+3001), plus pdfium's line-end hyphen markers, which also end a line.
_BREAK = np.zeros(65536, dtype=bool)
_BREAK[[0x0A, 0x0D, _SOFT_HYPHEN, _OLD_SOFT_HYPHEN]] = True
_SEPARATOR = _BREAK.copy()
_SEPARATOR[[c for c in range(0x3001) if chr(c).isspace()]] = True
# Last characters of a word that may be a footnote number glued to it ("Union.2").
_GLUED_END = np.zeros(65536, dtype=bool)
_GLUED_END[[ord(c) for c in "0123456789+.,;:!?)]"]] = True
_RECT = ctypes.sizeof(raw.FS_RECTF)
_MIN_BOXES = 1024  # the box buffer's first size
# The char-box call with no result to convert (its success flag would be thrown away).
_LOOSE_BOX = unchecked("FPDFText_GetLooseCharBox", None)


class _BoxBuffer:
    """One buffer of char boxes reused by every page, with a ready ``byref`` to each slot:
    making those argument objects per call cost a third as much as the call itself. Only
    used under ``PDFIUM_LOCK`` (pages are read under it), and read out before it is released.
    The buffer and its slots are kept as one pair, so they cannot come apart."""

    slots: ClassVar[tuple[Any, list[Any]]] = ((raw.FS_RECTF * 0)(), [])

    @classmethod
    def reserve(cls, n: int) -> tuple[Any, list[Any]]:
        """The buffer and its slot references, with room for ``n`` boxes at least."""
        buffer, refs = cls.slots
        if n > len(refs):
            size = max(n, 2 * len(refs), _MIN_BOXES)
            buffer = (raw.FS_RECTF * size)()
            refs = list(map(ctypes.byref, itertools.repeat(buffer), range(0, size * _RECT, _RECT)))
            cls.slots = (buffer, refs)
        return buffer, refs


def _boxes(text_handle: object, indices: list[int]) -> Any:
    """Loose boxes (left, top, right, bottom; pdfium's bottom-up points) of the chars at
    ``indices``, as an ``(n, 4)`` float64 array: one ctypes call each, no Python step."""
    n = len(indices)
    buffer, refs = _BoxBuffer.reserve(n)
    # ``map`` stops at its shortest input, ``indices``.
    deque(map(_LOOSE_BOX, itertools.repeat(text_handle), indices, refs), maxlen=0)
    return np.frombuffer(buffer, dtype=np.float32, count=4 * n).reshape(n, 4).astype(np.float64)


def _runs(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of equal ``key`` (non-empty): where each element starts a run, and each run's first
    and last index."""
    new_line = np.empty(len(key), dtype=bool)
    new_line[0] = True
    new_line[1:] = key[1:] != key[:-1]
    first = np.flatnonzero(new_line)
    last = np.empty_like(first)
    last[:-1] = first[1:] - 1
    last[-1] = len(key) - 1
    return new_line, first, last


def read_lines(handle: Any, text_handle: object, units: Any, text: str, number: int, height: float,
               box: Any, weight: Any, ref: object, rect: raw.FS_RECTF, sizes: dict[float, float],
               areas: list[TableArea], helpers: Any) -> tuple[list[Line], int] | None:
    """The line fragments of a page and its count of backward jumps, or ``None`` when the
    word-by-word reader must read it (see the module docstring).

    ``units`` holds the page text's UTF-16 code units (one per char index), ``text`` the
    same as a string; ``helpers`` is the ``pdfium_reader`` module (its per-char checks).
    """
    codes = np.frombuffer(units, dtype=np.uint16, count=len(text))
    separator = _SEPARATOR[codes]
    inside = ~separator
    after_gap = np.empty_like(separator)
    after_gap[0] = True
    after_gap[1:] = separator[:-1]
    before_gap = np.empty_like(separator)
    before_gap[-1] = True
    before_gap[:-1] = separator[1:]
    starts = np.flatnonzero(inside & after_gap)
    ends = np.flatnonzero(inside & before_gap)
    n_words = len(starts)
    if n_words == 0:
        return [], 0
    breaks = np.flatnonzero(_BREAK[codes])
    spaced = text
    if "\ufffe" in spaced or "\x02" in spaced:
        spaced = spaced.replace("\ufffe", " ").replace("\x02", " ")
    words = spaced.split()
    if len(words) != n_words:  # the separator table disagrees with str.split: be safe
        return None

    # pdfium lines ("pieces" between line breaks) and the break that ends each.
    new_line, first, last = _runs(np.searchsorted(breaks, starts))
    piece = np.cumsum(new_line) - 1  # index of each word's pdfium line
    next_break = np.searchsorted(breaks, ends[last])
    broken = next_break < len(breaks)
    if len(breaks):
        ender = codes[breaks[np.minimum(next_break, len(breaks) - 1)]]
        hyphens = (broken & ((ender == _SOFT_HYPHEN) | (ender == _OLD_SOFT_HYPHEN))).tolist()
    else:
        hyphens = [False] * len(first)
    broken_list = broken.tolist()

    # Boxes of every word's first char and of the last char of words longer than one.
    start_list = starts.tolist()
    first_box = _boxes(text_handle, start_list)
    left, box_top, first_right, box_bottom = first_box.T
    longer = ends != starts
    right = first_right.copy()
    if longer.any():
        right[longer] = _boxes(text_handle, ends[longer].tolist())[:, 2]
    right = np.where(right > left, right, left)  # a word's right edge, never left of its left
    top = height - box_top
    bottom = height - box_bottom
    loose = box_top - box_bottom
    size = (bottom - top) / _LOOSE_EM

    # A font with nonsense ascent/descent needs its boxes rebuilt from the baseline: the
    # word-by-word reader does that.
    distinct, where = np.unique(loose, return_index=True)
    for value, index in zip(distinct.tolist(), where.tolist(), strict=True):
        true_size = sizes.get(value)
        if true_size is None:
            true_size = sizes[value] = helpers._broken_font_size(text_handle, start_list[index], value)
        if true_size:
            return None

    line_starts = starts[first].tolist()  # the first char of each pdfium line
    heavy = list(map(weight, itertools.repeat(text_handle), line_starts))
    if areas:  # the word-by-word reader takes no line whole on a page with tables
        whole_line = np.zeros(n_words, dtype=bool)
        whole = [False] * len(first)
        whole_right: list[float] = []
    else:
        # One text object drew the whole line: checked as pdfium_reader._whole_line does.
        runs = list(map(unchecked("FPDFText_CountRects"), itertools.repeat(text_handle),
                        line_starts, (ends[last] - starts[first] + 1).tolist()))
        limit = np.maximum(loose[first] / _LOOSE_EM, 1.0)[piece[1:]]
        gap = left[1:] - right[:-1]
        whole_break = ~new_line[1:] & ((gap > GUTTER_EMS * limit) | (gap < -limit)
                                       | (np.abs(box_bottom[1:] - box_bottom[:-1]) > 0.8 * limit))
        per_word = np.zeros(n_words, dtype=bool)
        per_word[1:] = whole_break
        whole_array = (np.array(runs) == 1) & ~np.logical_or.reduceat(per_word, first)
        whole_line = whole_array[piece]
        whole = whole_array.tolist()
        whole_right = np.maximum(np.maximum.reduceat(right, first), first_right[first]).tolist()

    # Words on lines read word by word may carry a glued footnote number ("Union.2").
    glued = _GLUED_END[codes[ends]] & ~whole_line
    for k in np.flatnonzero(glued).tolist():
        word = words[k]
        if not helpers._ends_in_number(word):
            continue
        match = helpers._GLUED.fullmatch(word)
        if match is None:
            continue
        digit = start_list[k] + match.end(1)
        if helpers._is_reference(text_handle, box, ref, rect, digit, height):
            head, tail = match.group(1), match.group(3)
            words[k] = head if tail.startswith(",") and head[-1] in ".,;:!?" else head + tail

    line_of = list(range(len(first)))  # the pdfium line each line below came from
    if areas:
        # Words whose centre lies in a table go to it, one group per pdfium line and table
        # (as tables.route_words does); the lines are then made of the words left over.
        cx, cy = (left + right) / 2, (top + bottom) / 2
        area_of = np.full(n_words, -1)
        for i in range(len(areas) - 1, -1, -1):  # the first table holding a word takes it
            x0, y0, x1, y1 = areas[i].bbox
            area_of[(x0 <= cx) & (cx <= x1) & (y0 <= cy) & (cy <= y1)] = i
        taken = np.flatnonzero(area_of >= 0)
        if len(taken):
            groups: dict[tuple[int, int], list[Word]] = {}
            piece_l, area_l = piece.tolist(), area_of.tolist()
            left_t, right_t, top_t, bottom_t, size_t = (left.tolist(), right.tolist(), top.tolist(),
                                                        bottom.tolist(), size.tolist())
            for k in taken.tolist():
                p = piece_l[k]
                weight_p = heavy[p]
                bold = weight_p >= 600 if weight_p > 0 else helpers._bold_by_name(handle, line_starts[p])
                groups.setdefault((p, area_l[k]), []).append(
                    Word(words[k], left_t[k], right_t[k], top_t[k], bottom_t[k], size_t[k], bold))
            for (_, i), group in groups.items():
                areas[i].words.append(group)
            kept = np.flatnonzero(area_of < 0)
            left, right, top, bottom, size = left[kept], right[kept], top[kept], bottom[kept], size[kept]
            piece = piece[kept]
            kept_l = kept.tolist()
            words = [words[k] for k in kept_l]
            n_words = len(kept_l)
            if n_words:
                new_line, first, last = _runs(piece)
                line_of = piece[first].tolist()
    lines: list[Line] = []
    jumps = 0
    if n_words:
        jumps = _assemble(lines, number, words, line_starts, line_of, first, new_line, left, right, top,
                          bottom, size, loose, whole, whole_right, heavy, hyphens, broken_list, handle,
                          helpers)
    for area in areas:
        table = helpers.table_line(area, number)
        if table is not None:
            lines.append(table)
        else:  # not a real table after all: its words are text again
            for group in area.words:
                lines.extend(fragments(group, number))
    return lines, jumps


def _assemble(lines: list[Line], number: int, words: list[str], line_starts: list[int], line_of: list[int],
              first: Any, new_line: Any, left: Any, right: Any, top: Any, bottom: Any, size: Any,
              loose: Any, whole: list[bool], whole_right: list[float], heavy: list[int],
              hyphens: list[bool], broken_list: list[bool], handle: Any, helpers: Any) -> int:
    """Append the line fragments of the page's words to ``lines``; return the backward jumps.

    ``line_of`` maps each run of words (``first`` holds where each starts) to its pdfium line,
    whose ``whole``, ``heavy``, ``hyphens`` and ``broken_list`` entries apply; ``loose`` and
    ``whole_right`` are indexed by word and pdfium line as before any words went to tables
    (no line is whole on a page with tables, so the two indexings agree where it matters).
    Per-word values become Python floats only where a line or fragment needs them.
    """
    n_words = len(words)
    # Pairs of neighbouring words (k-1, k) on one line: where lines.fragments splits, and
    # where it may drop a raised reference (a word set smaller than the one before).
    same = ~new_line[1:]
    gap = left[1:] - right[:-1]
    pair_size = np.maximum(np.maximum(size[:-1], size[1:]), 1.0)
    split = same & ((gap > GUTTER_EMS * pair_size) | (gap < -pair_size)
                    | (np.abs(bottom[1:] - bottom[:-1]) > 0.8 * pair_size))
    per_word = np.zeros(n_words, dtype=bool)
    per_word[1:] = same & (size[1:] < 0.85 * size[:-1])
    has_smaller = np.logical_or.reduceat(per_word, first).tolist()

    # Fragments of the lines read word by word: their edges as reductions over word ranges.
    cut = np.empty(n_words, dtype=bool)
    cut[0] = True
    cut[1:] = ~same | split
    cuts = np.flatnonzero(cut)
    x0s = np.minimum.reduceat(left, cuts).tolist()
    x1s = np.maximum.reduceat(right, cuts).tolist()
    tops = np.minimum.reduceat(top, cuts).tolist()
    bottoms = np.maximum.reduceat(bottom, cuts).tolist()
    uniform = (np.minimum.reduceat(size, cuts) == np.maximum.reduceat(size, cuts)).tolist()
    cut_list = cuts.tolist()
    cut_list.append(n_words)
    line_cut = np.searchsorted(cuts, first).tolist()
    line_cut.append(len(cuts))
    first_list = first.tolist()
    ends = [*first_list[1:], n_words]

    left_a, top_a, bottom_a, loose_a = left[first].tolist(), top[first].tolist(), bottom[first].tolist(), \
        loose[first].tolist()  # each run's first word
    size_s = size[cuts].tolist()  # each fragment's first word
    jumps = 0
    previous_top: float | None = None
    bold_by_name = helpers._bold_by_name
    for j_line, a in enumerate(first_list):
        p = line_of[j_line]
        b = ends[j_line]
        weight_p = heavy[p]
        bold = weight_p >= 600 if weight_p > 0 else bold_by_name(handle, line_starts[p])
        hyphen = hyphens[p]
        if whole[p]:
            new = [Line(number, left_a[j_line], whole_right[p], top_a[j_line], bottom_a[j_line],
                        round(loose_a[j_line] / _LOOSE_EM, 1), " ".join(words[a:b]), bold, hyphen)]
        elif has_smaller[j_line]:
            fields = zip(words[a:b], left[a:b].tolist(), right[a:b].tolist(), top[a:b].tolist(),
                         bottom[a:b].tolist(), size[a:b].tolist(), strict=True)
            new = fragments([Word(text, x0, x1, y0, y1, word_size, bold)
                             for text, x0, x1, y0, y1, word_size in fields], number, hyphen=hyphen)
        else:
            new = []
            j_end = line_cut[j_line + 1]
            for j in range(line_cut[j_line], j_end):
                s, e = cut_list[j], cut_list[j + 1]
                fragment_size = (round(size_s[j], 1) if uniform[j]
                                 else _dominant_size(size[s:e].tolist(), words[s:e]))
                head = words[s]
                marker = (e - s > 1 and len(head) <= 3 and head.isdigit()
                          and size_s[j] < 0.85 * fragment_size
                          and float(bottom[s]) < float(bottom[s + 1]) - 0.15 * fragment_size)
                new.append(Line(number, x0s[j], x1s[j], tops[j], bottoms[j], fragment_size,
                                " ".join(words[s:e]), bold, hyphen and j == j_end - 1, marker))
        if broken_list[p]:
            if previous_top is not None and new[0].top < previous_top - 2 * new[0].size:
                jumps += 1
            previous_top = new[-1].top
        lines.extend(new)
    return jumps


def _dominant_size(sizes: list[float], texts: list[str]) -> float:
    """``lines._dominant_size`` on parallel lists: the size (to 0.1 pt) carrying most
    characters, ties to the larger."""
    exact: dict[float, int] = {}
    for value, text in zip(sizes, texts, strict=True):
        exact[value] = exact.get(value, 0) + len(text)
    weight: dict[float, int] = {}
    for value, n in exact.items():
        key = round(value, 1)
        weight[key] = weight.get(key, 0) + n
    most = max(weight.values())
    return max([value for value, n in weight.items() if n == most])
