"""Titles of plain-text bills and acts, taken from their own words (texts written for these tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from policylens.extract import extract
from policylens.extract.text_title import text_title

BILL = """ H. R. 9021


To establish a Bureau of Model Testing in the Department of Commerce, and for other purposes.


IN THE HOUSE OF REPRESENTATIVES


March 3, 2031


Ms. Example introduced the following bill; which was referred to the Committee on Science


A BILL
To establish a Bureau of Model Testing in the Department of Commerce, and for other purposes.


Be it enacted by the Senate and House of Representatives of the Union of Example in Congress assembled,

SECTION 1. SHORT TITLE.

This Act may be cited as the “Model Testing Bureau Act of 2031” or the “MTB Act”.
"""


@pytest.mark.parametrize(("text", "title"), [
    (BILL, "Model Testing Bureau Act of 2031"),
    ("A BILL\nTo direct the Secretary of Labour to study hiring software, and for other purposes.\n\n"
     "Be it enacted by the Senate and House of Representatives assembled,\n\nSEC. 2. STUDY.\n\n"
     "The Secretary shall ...",
     "To direct the Secretary of Labour to study hiring software"),
    (" AN ACT to amend the labour law, in relation to automated hiring deci-\n   sion tools\n\n"
     "   THE PEOPLE OF THE STATE OF EXAMPLE DO ENACT AS FOLLOWS:\n   Section 1. The labour law is amended.",
     "AN ACT to amend the labour law, in relation to automated hiring decision tools"),
    ("The people of the State of Example do enact as follows:\n\nSECTION 1. Chapter 4 is added to the Code, "
     "to read:\n\nCHAPTER 4. Model Disclosure Duties\n\n100. For the purposes of this chapter ...",
     "CHAPTER 4. Model Disclosure Duties"),
    ("SECTION 1. Chapter 8 is added to the Code, to read:\nCHAPTER 8. Labelling Act\n"
     "801. This chapter shall be known as the Example Content Labelling Act.\n802. Definitions ...",
     "Example Content Labelling Act"),
    ("SEC. 512. REPORT ON AUTONOMOUS SYSTEMS IN LOGISTICS.\n\n(a) In General.--Not later than 180 days after "
     "the date of the enactment of this Act, the Secretary shall submit a report.",
     "SEC. 512. REPORT ON AUTONOMOUS SYSTEMS IN LOGISTICS"),
    ("CHAPTER 7-B\n\n\nUSE OF ALGORITHMS BY COUNTY OFFICES\n\n\n7-B:1 Definitions. In this chapter ...",
     "CHAPTER 7-B. USE OF ALGORITHMS BY COUNTY OFFICES"),
    ("Machine learning tools are arriving in every county office, and this note explains what staff "
     "should check before using one. It is guidance only.",
     "Machine learning tools are arriving in every county office, and this note explains what staff "
     "should check before using one"),
])
def test_bill_titles_come_from_the_text(text: str, title: str) -> None:
    assert text_title(text) == title


def test_short_title_of_another_law_is_not_the_title() -> None:
    text = ("Model Safety Review Guidance\n\nAgencies should read section 5 of the statute, which may be "
            "cited as the “Old Procurement Act”, before buying systems.")
    assert text_title(text) == "Model Safety Review Guidance"


def test_long_titles_are_shortened_at_a_word() -> None:
    long = "To " + " ".join(["establish a programme"] * 40) + ", and for other purposes."
    title = text_title("A BILL\n" + long + "\n\nBe it enacted ...")
    assert title is not None and len(title) <= 162
    assert title.endswith(" …") and title.startswith("To establish")


def test_extracted_bill_is_never_named_by_its_number(tmp_path: Path) -> None:
    path = tmp_path / "2671.txt"  # archives name files by number
    path.write_text(BILL, encoding="utf-8")
    assert extract(path).title == "Model Testing Bureau Act of 2031"
    bare = tmp_path / "17.txt"  # no words at all: the file name is all there is
    bare.write_text("A BILL\n\n1234\n", encoding="utf-8")
    assert extract(bare).title == "17"
