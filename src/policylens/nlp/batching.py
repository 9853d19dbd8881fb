"""Batched sentence components: one feature matrix and one matrix product per batch of docs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spacy.tokens import Doc


class BatchedComponent:
    """``__call__`` and ``pipe`` for a component whose work is ``_predict(list_of_docs)``."""

    def __call__(self, doc: Doc) -> Doc:
        self._predict([doc])
        return doc

    def pipe(self, docs: Iterable[Doc], *, batch_size: int = 256) -> Iterator[Doc]:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                self._predict(batch)
                yield from batch
                batch = []
        if batch:
            self._predict(batch)
            yield from batch

    def _predict(self, docs: list[Doc]) -> None:
        raise NotImplementedError
