"""``to_matrix``: named feature rows -> the CSR matrix a plain loop over every feature builds."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import sparse

from policylens.nlp.features import to_matrix


def reference(rows: Sequence[Mapping[str, float]], vocabulary: Mapping[str, int]) -> sparse.csr_matrix:
    """Row by row, feature by feature, unknown names dropped (the way it was written first)."""
    indptr, indices, data = [0], [], []
    for row in rows:
        for name, value in row.items():
            if name in vocabulary:
                indices.append(vocabulary[name])
                data.append(value)
        indptr.append(len(indices))
    return sparse.csr_matrix((np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int32),
                              np.asarray(indptr)), shape=(len(rows), len(vocabulary)))


def test_same_matrix_and_same_products_as_the_plain_loop() -> None:
    rng = random.Random(14)
    vocabulary = {f"w:{i}": i // 2 for i in range(0, 400, 2)}  # half the names are unknown
    coef = np.asarray([[rng.uniform(-2, 2) for _ in range(len(vocabulary))] for _ in range(3)])
    for _ in range(40):
        rows = [{f"w:{rng.randrange(400)}": rng.choice([1.0, rng.random()]) for _ in range(rng.randrange(12))}
                for _ in range(rng.randrange(30))]
        got, want = to_matrix(rows, vocabulary), reference(rows, vocabulary)
        assert got.shape == want.shape
        for part in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(got, part), getattr(want, part)), part
        assert np.array_equal(np.asarray(got @ coef.T), np.asarray(want @ coef.T))  # bit for bit
    assert to_matrix([], vocabulary).shape == (0, len(vocabulary))
