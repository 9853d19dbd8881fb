"""``policylens_governance``: the content component, per-sentence approach probabilities.

In codebook v2.0 terms this is the *content* part: the approach a sentence's own
words favour, by rules A1-A7 (contrast, negation, coordination, reported speech,
level, treaties, sandboxes). ``procedure.py`` uses it for architecture sentences
and for provisions of documents whose scope is ``none``.

The component computes named features for each sentence (``features.py``: lemma
n-grams, cue and negation counts, contrast markers, facet presence) and applies
the trained linear model (``model.py``). Work is batched: ``pipe`` builds one
sparse matrix for a whole batch of documents and does one matrix product.

Results go to ``doc._.governance``: a list of ``(start, end, probs)`` per
sentence, token offsets and a ``{label: probability}`` dict. Run
``policylens_cues`` (and ``policylens_facets``) before this component; without
them the model still runs, on n-grams alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from policylens.nlp.batching import BatchedComponent
from policylens.nlp.features import FEATURE_CACHE, doc_features, to_matrix
from policylens.nlp.model import GovernanceModel, resolve_model_dir

EXTENSION = "governance"


def register_extensions() -> None:
    """The ``Doc._.governance`` slot (spaCy's registry is the only global touched)."""
    if not Doc.has_extension(EXTENSION):
        Doc.set_extension(EXTENSION, default=None)


class GovernanceClassifier(BatchedComponent):
    """Applies a ``GovernanceModel`` to every sentence of a doc."""

    def __init__(self, model: GovernanceModel, *, model_dir: Path | None = None) -> None:
        self.model = model
        self.model_dir = model_dir

    def _predict(self, docs: list[Doc]) -> None:
        rows: list[dict[str, float]] = []
        bounds: list[tuple[int, int]] = []
        owners: list[int] = []
        for i, doc in enumerate(docs):
            sents = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
            doc_bounds = [(sent.start, sent.end) for sent in sents]
            doc_rows = doc_features(doc, doc_bounds)
            doc.user_data[FEATURE_CACHE] = doc_rows
            rows.extend(doc_rows)
            bounds.extend(doc_bounds)
            owners.extend([i] * len(doc_bounds))
        for doc in docs:
            doc._.governance = []
        if not rows:
            return
        probs = self.model.predict_proba(to_matrix(rows, self.model.vocabulary))
        labels = self.model.labels
        for owner, (start, end), row in zip(owners, bounds, probs.tolist(), strict=True):
            docs[owner]._.governance.append((start, end, dict(zip(labels, row, strict=True))))

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        self.model.save(Path(path))

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> GovernanceClassifier:
        self.model = GovernanceModel.load(path)
        self.model_dir = Path(path)
        return self


@Language.factory("policylens_governance", default_config={"model": None})
def make_governance(nlp: Language, name: str, *, model: str | None) -> GovernanceClassifier:
    """Factory of the sentence classifier; ``model`` is a model folder (default: the bundled one)."""
    register_extensions()
    directory = resolve_model_dir(model)
    return GovernanceClassifier(GovernanceModel.load(directory), model_dir=directory)


def sentence_probs(doc: Doc) -> list[tuple[int, int, dict[str, Any]]]:
    """The ``(start, end, probs)`` triples the component stored on ``doc``."""
    return list(doc._.governance or [])
