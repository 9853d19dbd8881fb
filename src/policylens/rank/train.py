"""Train the framework scorer and Wordscores, and compare all three ranking methods.

Usage::

    python -m policylens.rank.train [--frameworks corpora/frameworks] [--samples corpora/samples]
                                    [--out models/rank]

Training data: the fictional frameworks in ``corpora/frameworks`` (``gold.jsonl``
gives each file's split and gold position). Every framework is extracted and
tagged exactly as ``policylens rank`` would. The scorer is fitted on the
``train`` split; all methods are evaluated on the ``test`` split (Spearman
with the gold positions, accuracy of the three classes) and on the sample
corpus (Spearman with its intended order). The numbers go to
``evaluation.json`` next to the models and into docs/ranking.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from policylens.nlp.types import TaggedDocument
from policylens.rank.classifier import FrameworkScorer, library_versions, position_class
from policylens.rank.features import document_features
from policylens.rank.index import approach_probs, centralization_index
from policylens.rank.scoring import SCORER_FILE, WORDSCORES_FILE
from policylens.rank.wordscores import Wordscores

N_REFERENCES = 3  # reference texts per side for Wordscores


@dataclass(frozen=True)
class Framework:
    """One training or test framework: its tagged text and gold position."""

    file: str
    split: str
    position: float
    tagged: TaggedDocument

    @property
    def gold_class(self) -> str:
        return position_class(self.position)


def tag_file(path: Path) -> TaggedDocument:
    from policylens.extract import extract
    from policylens.nlp import tag

    return tag(extract(path))


def load_frameworks(folder: Path) -> list[Framework]:
    rows = [json.loads(line) for line in (folder / "gold.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return [Framework(file=r["file"], split=r["split"], position=float(r["position"]),
                      tagged=tag_file(folder / r["file"])) for r in rows]


def training_hash(folder: Path) -> str:
    """sha256 over the framework sources, gold file and composed documents, in name order."""
    digest = hashlib.sha256()
    for path in sorted([folder / "sentences.tsv", folder / "gold.jsonl", *(folder / "docs").glob("*.md")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    from scipy.stats import spearmanr

    value = spearmanr(a, b).statistic
    return float(value) if np.isfinite(value) else 0.0


def texts(tagged: TaggedDocument) -> str:
    return "\n".join(s.text for s in tagged.sentences)


def fit_wordscores(train: Sequence[Framework]) -> Wordscores:
    ordered = sorted(train, key=lambda f: f.position)
    refs = ordered[:N_REFERENCES] + ordered[-N_REFERENCES:]
    return Wordscores().fit([texts(f.tagged) for f in refs], [-1.0] * N_REFERENCES + [1.0] * N_REFERENCES)


def fit_scorer(train: Sequence[Framework]) -> tuple[FrameworkScorer, float]:
    """Pick C by 5-fold cross-validated accuracy on the training split, then refit."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    X = np.array([document_features(f.tagged.sentences) for f in train])
    y = np.array([f.gold_class for f in train])
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    best_c, best = 1.0, -1.0
    for c in (0.1, 0.3, 1.0, 3.0, 10.0):
        accuracy = float(cross_val_score(FrameworkScorer(C=c), X, y, cv=folds).mean())
        if accuracy > best + 1e-9:
            best_c, best = c, accuracy
    return FrameworkScorer(C=best_c).fit(X, y), best


def method_positions(frameworks: Sequence[TaggedDocument], scorer: FrameworkScorer,
                     words: Wordscores) -> dict[str, list[float]]:
    return {
        "aggregate": [centralization_index(*approach_probs(t.sentences)) for t in frameworks],
        "classifier": [float(scorer.position(document_features(t.sentences)[None, :])[0])
                       for t in frameworks],
        "wordscores": [words.position(texts(t)) for t in frameworks],
    }


def evaluate(test: Sequence[Framework], samples: Sequence[TaggedDocument], scorer: FrameworkScorer,
             words: Wordscores) -> dict[str, Any]:
    gold = [f.position for f in test]
    gold_classes = [f.gold_class for f in test]
    results: dict[str, Any] = {}
    held_out = method_positions([f.tagged for f in test], scorer, words)
    on_samples = method_positions(samples, scorer, words) if samples else {}
    intended = list(range(len(samples), 0, -1))  # sample 01 is the most centralized
    for method, values in held_out.items():
        predicted = [position_class(v) for v in values]
        results[method] = {
            "heldout_spearman": round(spearman(values, gold), 4),
            "heldout_accuracy": round(float(np.mean([p == g for p, g in
                                                     zip(predicted, gold_classes, strict=True)])), 4),
            "heldout_mae": round(float(np.mean(np.abs(np.array(values) - np.array(gold)))), 4),
        }
        if samples:
            results[method]["samples_spearman"] = round(spearman(on_samples[method], intended), 4)
            results[method]["samples_positions"] = [round(v, 4) for v in on_samples[method]]
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policylens.rank.train",
                                     description="Train and compare the ranking methods.")
    parser.add_argument("--frameworks", type=Path, default=Path("corpora/frameworks"))
    parser.add_argument("--samples", type=Path, default=Path("corpora/samples"))
    parser.add_argument("--out", type=Path, default=Path("models/rank"))
    args = parser.parse_args(argv)

    frameworks = load_frameworks(args.frameworks)
    train = [f for f in frameworks if f.split == "train"]
    test = [f for f in frameworks if f.split == "test"]
    samples = [tag_file(p) for p in sorted(args.samples.glob("*.pdf"))] if args.samples.is_dir() else []
    scorer, cv_accuracy = fit_scorer(train)
    words = fit_wordscores(train)
    results = evaluate(test, samples, scorer, words)
    data_hash = training_hash(args.frameworks)
    tagger = frameworks[0].tagged.model_version if frameworks else ""
    card = {"n_train": len(train), "n_test": len(test), "cv_accuracy": round(cv_accuracy, 4),
            "tagger_model_version": tagger}
    scorer.save(args.out / SCORER_FILE, training_data_sha256=data_hash, extra=card)
    words.save(args.out / WORDSCORES_FILE, versions=library_versions(), training_data_sha256=data_hash,
               n_references=2 * N_REFERENCES)
    evaluation = {"training_data_sha256": data_hash, "tagger_model_version": tagger, **card,
                  "C": scorer.C, "methods": results}
    (args.out / "evaluation.json").write_text(json.dumps(evaluation, indent=1) + "\n", encoding="utf-8")
    print(f"trained on {len(train)} frameworks (C={scorer.C}, cv accuracy {cv_accuracy:.3f}); "
          f"held out {len(test)}; samples {len(samples)}")
    print(f"{'method':<12}{'Spearman(test)':>16}{'accuracy(test)':>16}{'MAE(test)':>11}{'Spearman(samples)':>19}")
    for method, r in results.items():
        print(f"{method:<12}{r['heldout_spearman']:>16.3f}{r['heldout_accuracy']:>16.3f}"
              f"{r['heldout_mae']:>11.3f}{r.get('samples_spearman', float('nan')):>19.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
