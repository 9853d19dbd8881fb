"""A readable title for a plain-text document from its own words (bills and acts above all).

Plain text has no metadata and no fonts, and legislative texts open with boilerplate
("H. R. 774", "A BILL", "IN THE HOUSE OF REPRESENTATIVES"). In order, the title is:

1. the **short title**: "This Act may be cited as the “MEANS Act”", "This chapter shall be
   known as the California AI Transparency Act";
2. the **long title**: "To establish an Office of …", "An Act to amend the labor law …";
3. the first **heading**: a short line that is not boilerplate, or a section, chapter or
   part heading ("SEC. 604. ASSESSMENT OF …", "CHAPTER 9.1. Public Transit …");
4. the first sentence, shortened.

Only the opening of the text is searched (a short title deep inside a long bill belongs to
one of its titles, not to the document).
"""

from __future__ import annotations

import re

HEAD_CHARS = 15_000
MAX_CHARS = 160
_QUOTES = "\"“”‘’'`"
_SHORT = re.compile(
    r"\b(?:may|shall)\s+be\s+(?:known,?\s+and\s+may\s+be\s+cited,?\s+|cited\s+|known\s+)?as\s+(?:the\s+)?"
    r"(?:“([^”\n]{3,200})”|\"([^\"\n]{3,200})\"|[‘'`]((?:[^’'\n]|[’'](?=[a-z]))+)[’']"
    r"|((?:(?:[A-Z][\w.'’&-]*|and|of|for|the|in|on|to)\s+){1,16}Act(?:\s+of\s+\d{4})?))")
_CITED_LEAD = re.compile(r"\b(?:this|the)\s+(?:act|title|subtitle|chapter|article|part|division|law|bill)"
                         r"\b[^.]{0,40}$", re.IGNORECASE)
_LONG = re.compile(
    r"^(?:a\s+bill\s+(?:for|to\s+be\s+entitled)\s+)?(?:an\s+act|a\s+bill|a\s+resolution|an\s+ordinance)\b[\s,]*"
    r"(?:to|relating\s+to|concerning|relative\s+to|in\s+relation\s+to|regarding|establishing|amending|"
    r"requiring|providing|prohibiting|creating|for)\b"
    r"|^to\s+(?:amend|establish|require|provide|direct|prohibit|authorize|create|improve|promote|ensure|"
    r"support|prevent|protect|expand|modify|make|enhance|codify|repeal|reauthorize|develop|strengthen|"
    r"increase|limit|clarify|prepare|encourage|facilitate|address|advance|accelerate|assist|award|"
    r"provide|set|designate|require|restrict|update|study|examine|implement|regulate)\b",
    re.IGNORECASE)
_SECTION = re.compile(r"^(?:SEC(?:TION)?\.?|Sec(?:tion)?\.?|§+|CHAPTER|Chapter|Subchapter|SUBCHAPTER|"
                      r"ARTICLE|Article|PART|Part|TITLE|Title|Subtitle|SUBTITLE|DIVISION|Division)\s*[\dIVXLC][\w.\-–]*\.?\s+\S")
_NUMBERING = re.compile(r"^(?:\(?[\dIVXivx]{1,4}[.)]\s*)+")
_BOILERPLATE = re.compile(
    r"^(?:a\s+bill|an\s+act|a\s+resolution|an\s+ordinance|bill|resolution|act|"
    r"(?:h|s|a|h\.?\s*b|s\.?\s*b|a\.?\s*b|h\.?\s*r|s\.?\s*r|h\.?\s*res|s\.?\s*res|h\.?\s*j\.?\s*res)\.?\s*(?:no\.?\s*)?\d+.*|"
    r"\d+(?:st|nd|rd|th)\s+congress.*|.*\bsession\b.*|in\s+the\s+(?:house|senate)\b.*|\[.*|"
    r"a\s+bill\s+(?:to\s+be\s+entitled|to|for)|long\s+title|bill\s+[a-z.]*\s*\d+|synopsis.*|new\s+act|"
    r"state\s+of\s+\w+|\d+\s+and\s+\d+|the\s+general\s+assembly\s+of\b.*|"
    r"be\s+it\s+enacted\b.*|the\s+people\s+of\s+the\s+state\b.*|.*\bdo\s+enact\b.*|"
    r"(?:introduced|referred|passed|approved|enrolled|engrossed|chaptered|filed)\b.*|"
    r"(?:sec(?:tion)?\.?\s*1\.?\s*)?short\s+titles?\b.*|table\s+of\s+contents\.?|"
    r"(?:senate|house|assembly)(?:\s+bill)?(?:\s+no\.?)?\s*\d*|legislative\s+counsel.*|"
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december)\s+\d.*|"
    r"[\d\s./,-]*)$",
    re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)”\"])[.;:](?:\s|$)")


def text_title(text: str) -> str | None:
    """The title a reader would give this plain text, or ``None`` when it has no words at all.

    >>> text_title("H. R. 774\\n\\nA BILL\\nTo establish an Office of Testing, and for other purposes."
    ...            "\\n\\nSECTION 1. SHORT TITLE.\\n\\nThis Act may be cited as the “Testing Office Act”.")
    'Testing Office Act'
    >>> text_title("A BILL\\nTo direct the Secretary to issue guidance on payment for AI.\\n\\nBe it ...")
    'To direct the Secretary to issue guidance on payment for AI'
    >>> text_title("SEC. 604. ASSESSMENT OF CRITICAL TECHNOLOGY TRENDS.\\n\\n(a) In general.--The ...")
    'SEC. 604. ASSESSMENT OF CRITICAL TECHNOLOGY TRENDS'
    """
    head = _unwrap(text[:HEAD_CHARS])
    for finder in (_short_title, _long_title, _heading, _first_sentence):
        found = finder(head)
        if found:
            return _tidy(found)
    return None


def _unwrap(text: str) -> str:
    """Join words hyphenated across lines ("deci-\\n sion") and drop carriage returns."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return re.sub(r"(?<=[a-z])-\n\s*(?=[a-z])", "", text)


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]


def _short_title(text: str) -> str | None:
    flat = " ".join(text.split())
    for match in _SHORT.finditer(flat):
        if not _CITED_LEAD.search(flat[max(0, match.start() - 80):match.start()]):
            continue  # "... may be cited as the X" must be said of this Act, title or chapter
        name = next((g for g in match.groups() if g), "").strip(" ,.;" + _QUOTES)
        name = re.sub(r"^the\s+", "", name, flags=re.IGNORECASE)
        if sum(ch.isalpha() for ch in name) >= 4:
            return name
    found = _CREATES.search(flat[:6000])  # an Illinois synopsis: "Creates the … Act."
    return found.group(1) if found else None


_ACT_TITLE = re.compile(
    r"\b(?:a\s+bill\s+(?:for|to\s+be\s+entitled)\s+)?(?:an\s+act|a\s+bill)\s*,?\s+"
    r"(?=(?:to|relating\s+to|concerning|relative\s+to|in\s+relation\s+to|regarding|making|establishing)\b)",
    re.IGNORECASE)
_TITLE_END = re.compile(r"\.\s|;\s+and\s+for\s+(?:other|connected|related)\s+purposes"
                        r"|,?\s+and\s+for\s+other\s+purposes|\s+be\s+it\s+(?:enacted|resolved)|\s+whereas\b|\s+the\s+people\s+of\b",
                        re.IGNORECASE)
_CREATES = re.compile(r"\bCreates\s+the\s+((?:(?:[A-Z][\w'’&-]*|and|of|for|the|in|on|to)\s+){1,16}Act)\b")


def _long_title(text: str) -> str | None:
    """ "An Act to amend …", "A BILL FOR AN ACT relating to …", or a bill's "To establish …" line."""
    flat = " ".join(text[:6000].split())
    found = _ACT_TITLE.search(flat)
    if found:
        rest = flat[found.start():]
        if re.match(r"a\s+bill\s*,?\s+to\b", rest, re.IGNORECASE):
            # "A BILL To amend …": the long title is "To amend …"
            rest = "To" + rest[rest.lower().index(" to") + 3:]
        end = _TITLE_END.search(rest)
        return rest[: end.start()] if end else rest[:400]
    for line in _lines(text)[:40]:
        if _LONG.match(line):
            para = next((p for p in _paragraphs(text) if p.startswith(line[:40])), line)
            end = _TITLE_END.search(para)
            return para[: end.start()] if end else para
    return None


def _heading(text: str) -> str | None:
    for index, line in enumerate(_lines(text)[:30]):
        bare = line.strip(" .:")
        if not bare or _BOILERPLATE.match(bare):
            continue
        words = bare.split()
        if line.rstrip("-–— ").endswith(":"):
            continue  # "SECTION 1. Chapter 9.1 is added …, to read:" introduces the text, it is not its title
        if _SECTION.match(line) and sum(ch.isalpha() for ch in bare) >= 8 and len(words) <= 25:
            return line
        if _SECTION.match(line + " x") and len(words) <= 3:  # "CHAPTER 5-D" over its name
            nxt = next((n for n in _lines(text)[index + 1:index + 3] if not _BOILERPLATE.match(n)), "")
            if nxt and len(nxt.split()) <= 14 and not _SENTENCE_END.search(nxt[:-1]):
                return f"{bare}. {nxt}"
        body = _NUMBERING.sub("", line)
        if (len(words) <= 14 and body[:1].isupper() and not line.endswith((",", ";", ":"))
                and sum(ch.isalpha() for ch in bare) >= 8 and not _SENTENCE_END.search(body[:-1])):
            return line
        if len(words) > 14:
            return None  # prose has started: no heading above it
    return None


def _first_sentence(text: str) -> str | None:
    for para in _paragraphs(text)[:20]:
        if _BOILERPLATE.match(para.strip(" .:")) or sum(ch.isalpha() for ch in para) < 12:
            continue
        # the first sentence end after a few words ("Sec. 143." and "1." do not end anything)
        end = next((m for m in _SENTENCE_END.finditer(para) if len(para[: m.start()].split()) >= 6), None)
        return para[: end.start()] if end else para
    return None


def _tidy(title: str) -> str:
    title = " ".join(title.split()).strip(" ,;:" + _QUOTES)
    title = title[:-1] if title.endswith(".") and not title.endswith(("Inc.", "Co.", "U.S.")) else title
    if len(title) > MAX_CHARS:
        cut = title[:MAX_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:")
        title = cut + " …"
    return title
