"""Model weights cached as arrays by the model file's hash: the model the JSON gives, never pickle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from policylens import cache
from policylens.errors import ModelError
from policylens.nlp import model as model_module
from policylens.nlp.model import GovernanceModel, LinearModel, default_model_dir
from policylens.nlp.role import RoleModel
from policylens.nlp.scope import ScopeModel


def entries() -> list[Path]:
    return sorted(cache.cache_dir().glob(f"{model_module.WEIGHTS_CACHE_KIND}-*.npz"))


def assert_same(a: LinearModel, b: LinearModel) -> None:
    assert type(a) is type(b)
    assert list(a.vocabulary.items()) == list(b.vocabulary.items())
    assert np.array_equal(a.coef, b.coef) and a.coef.dtype == b.coef.dtype and b.coef.flags.c_contiguous
    assert np.array_equal(a.intercept, b.intercept)
    assert (a.temperature, a.train_prior, a.target_prior, a.labels, a.version, a.meta) == (
        b.temperature, b.train_prior, b.target_prior, b.labels, b.version, b.meta)


def parsed(cls: type[LinearModel], directory: Path) -> LinearModel:
    """The model as the JSON file alone gives it (no cache involved)."""
    return cls.from_dict(json.loads((directory / cls.FILE).read_text(encoding="utf-8")))


@pytest.mark.parametrize("cls", [GovernanceModel, RoleModel, ScopeModel])
def test_cached_weights_are_the_model_the_file_gives(cls: type[LinearModel]) -> None:
    assert not entries()
    first = cls.load(default_model_dir())  # parses the JSON and writes the entry
    assert len(entries()) == 1
    again = cls.load(default_model_dir())  # reads the entry
    reference = parsed(cls, default_model_dir())
    assert_same(reference, first)
    assert_same(reference, again)
    assert len(again.vocabulary) > 1000


def test_the_cache_is_read_not_parsed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    first = GovernanceModel.load(default_model_dir())

    def boom(*_: object, **__: object) -> LinearModel:
        raise AssertionError("parsed again although the cache holds the weights")

    monkeypatch.setattr(GovernanceModel, "from_dict", classmethod(boom))
    assert_same(first, GovernanceModel.load(default_model_dir()))


def object_array_entry(path: Path) -> None:
    """An entry that could only be read by unpickling: it must be refused, not loaded."""
    with path.open("wb") as handle:
        np.savez(handle, coef=np.array([{"x": 1}], dtype=object), intercept=np.zeros(3),
                 names=np.zeros(1, dtype=np.uint8), header=np.zeros(1, dtype=np.uint8), allow_pickle=True)


def wrong_shape_entry(path: Path) -> None:
    with np.load(path, allow_pickle=False) as good:
        arrays = {name: good[name] for name in good.files}
    arrays["coef"] = arrays["coef"][:, :-1]
    with path.open("wb") as handle:
        np.savez(handle, **arrays)


@pytest.mark.parametrize("damage", [
    lambda p: p.write_bytes(b""),
    lambda p: p.write_bytes(b"PK\x03\x04 not really a zip"),
    lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    object_array_entry,
    wrong_shape_entry,
], ids=["empty", "garbage", "truncated", "object-array", "wrong-shape"])
def test_a_damaged_entry_is_rebuilt(damage: object) -> None:
    good = GovernanceModel.load(default_model_dir())
    (entry,) = entries()
    damage(entry)  # type: ignore[operator]
    assert_same(good, GovernanceModel.load(default_model_dir()))
    with np.load(entry, allow_pickle=False) as rewritten:
        assert rewritten["coef"].shape == good.coef.shape


def test_a_changed_model_file_gets_its_own_entry(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(default_model_dir() / "model.json", folder / "model.json")
    before = GovernanceModel.load(folder)
    data = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    data["features"][0][1] = [w + 1.5 for w in data["features"][0][1]]
    (folder / "model.json").write_text(json.dumps(data), encoding="utf-8")
    after = GovernanceModel.load(folder)
    assert len(entries()) == 2
    assert np.allclose(after.coef[:, 0], before.coef[:, 0] + 1.5)
    assert_same(parsed(GovernanceModel, folder), after)


def test_a_cached_model_is_refused_when_its_file_would_be(monkeypatch: pytest.MonkeyPatch) -> None:
    GovernanceModel.load(default_model_dir())
    assert entries()
    monkeypatch.setattr(model_module, "_spacy_major", lambda: 99)  # as after a spaCy upgrade
    with pytest.raises(ModelError, match="retrain"):
        GovernanceModel.load(default_model_dir())


def test_an_unwritable_cache_costs_time_not_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("POLICYLENS_HOME", str(blocker))
    assert_same(parsed(GovernanceModel, default_model_dir()), GovernanceModel.load(default_model_dir()))
    assert blocker.read_text() == "not a folder"
