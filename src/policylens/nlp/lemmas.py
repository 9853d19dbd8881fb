"""``policylens_lemmas``: spaCy's lookup lemmas (``lemmatizer`` in ``lookup`` mode), cheaper.

The lemmas are the same: each token's text looked up in the ``lemma_lookup`` table
of spacy-lookups-data, the text itself when it is not there, and a lemma already set
is kept. spaCy's own component loads the table into a ``Table`` (a Python loop that
hashes its 40,000 keys, a tenth of a second at every start) and looks each token up
through Python calls; this one keeps the table as the plain dict it is read as, and
sets a doc's lemmas from one array, remembering the lemma of every word it has seen.

>>> import spacy
>>> nlp = spacy.blank("en")
>>> _ = nlp.add_pipe("policylens_lemmas")
>>> [t.lemma_ for t in nlp("Regulators were issuing rules.")]  # the table is case-sensitive
['Regulators', 'be', 'issue', 'rule', '.']
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from spacy.attrs import LEMMA, ORTH
from spacy.language import Language
from spacy.tokens import Doc
from spacy.vocab import Vocab

from policylens.errors import ModelError

TABLE = "lemma_lookup"


def lookup_table(lang: str) -> dict[str, str]:
    """The ``lemma_lookup`` table of spacy-lookups-data for ``lang``, as a dict."""
    from spacy.util import load_language_data, registry

    try:
        files = registry.lookups.get(lang)
        data = load_language_data(files[TABLE])
    except (KeyError, OSError, ValueError) as exc:  # ValueError: catalogue's RegistryError, bad JSON
        raise ModelError(f"lookup lemmas need spacy-lookups-data with a {lang!r} {TABLE} table "
                         f"(pip install spacy-lookups-data): {exc}") from None
    if not isinstance(data, dict):
        raise ModelError(f"spacy-lookups-data: the {lang!r} {TABLE} table is not a mapping")
    return data


class LookupLemmatizer:
    """Sets ``token.lemma_`` from a lookup table, as spaCy's lookup-mode lemmatizer does."""

    def __init__(self, vocab: Vocab, table: Mapping[str, str]) -> None:
        self.vocab = vocab
        self.table = table
        self._lemma_of: dict[int, int] = {}  # a word's string id -> its lemma's string id

    def _lemma(self, orth: int) -> int:
        strings = self.vocab.strings
        text = strings[orth]
        lemma = strings.add(self.table.get(text, text))
        self._lemma_of[orth] = lemma
        return lemma

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        pairs = doc.to_array([ORTH, LEMMA]).tolist()
        if doc.vocab is self.vocab:
            known, lemma_of = self._lemma_of, self._lemma
            lemmas = [lemma or known.get(orth) or lemma_of(orth) for orth, lemma in pairs]
        else:  # a doc of another vocab: its own strings, nothing remembered
            strings, table = doc.vocab.strings, self.table
            lemmas = [lemma or strings.add(table.get(strings[orth], strings[orth])) for orth, lemma in pairs]
        column = np.asarray(lemmas, dtype=np.uint64).reshape(-1, 1)
        doc.from_array([LEMMA], column)  # type: ignore[arg-type]  # thinc's Ints2d is any 2-d int array
        return doc


@Language.factory("policylens_lemmas", default_config={})
def make_lemmas(nlp: Language, name: str) -> LookupLemmatizer:
    """Factory of the lookup lemmatizer for the pipeline's language."""
    return LookupLemmatizer(nlp.vocab, lookup_table(nlp.lang or ""))
