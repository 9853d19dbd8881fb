"""What a command loads: ``--help`` and ``extract`` import neither spaCy nor scikit-learn.

Each case runs the command line in a fresh interpreter (``python -c``) and reports the
top-level packages in ``sys.modules`` afterwards: an import added at module level of a
command module, or of anything ``extract`` reads with, shows up here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pdf_factory import write_pdf
from policylens.cli import app

HEAVY = ("spacy", "thinc", "sklearn")
PROBE = """
import json, sys
from policylens import cli
sys.argv = ["policylens", *json.loads(sys.argv[1])]
try:
    cli.app()  # main() ends the process without returning: the probe must report after the app
except SystemExit as exc:
    code = exc.code or 0
else:
    code = 0
# a package counts as loaded when its top level is: policylens.nlp leaves placeholders for
# spacy.cli (spacy_import.py) that are not spaCy
print(json.dumps({"code": code, "loaded": sorted({m.split(".")[0] for m in sys.modules} & set(sys.modules))}),
      file=sys.stderr)
"""


def loaded_by(args: list[str], cwd: Path, *, code: int = 0) -> set[str]:
    """The top-level packages loaded by ``policylens ARGS`` (which must exit with ``code``)."""
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300, check=False)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == code, done.stderr
    return set(report["loaded"])


@pytest.mark.parametrize("args", [["--help"], ["tag", "--help"], ["rank", "--help"], ["corpus", "--help"],
                                  ["extract", "notes.txt"], ["extract", "paper.pdf", "--format", "json"]])
def test_help_and_extract_load_neither_spacy_nor_sklearn(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("The agency will publish guidance.\n", encoding="utf-8")
    write_pdf(tmp_path / "paper.pdf", [["A single regulator will license every AI system."]])
    loaded = loaded_by(args, tmp_path)
    assert "typer" in loaded and "policylens" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_the_probe_sees_what_tagging_loads(tmp_path: Path) -> None:
    """The same probe on ``tag`` does see spaCy (imported before the missing model is noticed):
    the check above can fail."""
    args = ["tag", "--text", "Providers shall register.", "--model", str(tmp_path / "no-model")]
    assert "spacy" in loaded_by(args, tmp_path, code=1)


def test_jsonl_keeps_colon_words_as_written() -> None:
    """Regression: the JSONL lines went through rich, which turned ":warning:" into an emoji."""
    text = "Sector regulators :warning: will apply the rules."
    result = CliRunner().invoke(app, ["tag", "--text", text, "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["text"] == text
