"""spaCy is imported without its command line (``policylens.nlp.spacy_import``): tagging never
loads spaCy's commands, and anything that does use them still gets the real ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = """
import json, sys
import policylens.nlp
from policylens.nlp import tag_text
tagged = tag_text("Providers shall register their systems with the national authority.")
before = sorted({m.split(".")[0] for m in sys.modules})
import spacy
info = spacy.info()
from spacy.cli import download
import spacy.cli
print(json.dumps({"sentences": len(tagged.sentences), "before": before, "info": sorted(info),
                  "download": download.__module__, "cli": spacy.cli.__file__ or "",
                  "after": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def _probe(**env: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300,
                          check=True, env={**os.environ, **env})
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_tagging_imports_no_spacy_command_and_spacy_cli_still_works() -> None:
    result = _probe()
    assert result["sentences"] == 1
    before = set(result["before"])  # type: ignore[arg-type]
    assert "spacy" in before and not before & {"weasel", "httpx", "requests"}, sorted(before)
    # spacy.info and spacy.cli load the real command line on first use
    assert "spacy_version" in result["info"]  # type: ignore[operator]
    assert result["download"] == "spacy.cli.download"
    assert str(result["cli"]).endswith(os.path.join("spacy", "cli", "__init__.py"))
    assert "weasel" in set(result["after"])  # type: ignore[arg-type]


def test_the_deferral_can_be_turned_off() -> None:
    before = set(_probe(POLICYLENS_SPACY_CLI="eager")["before"])  # type: ignore[arg-type]
    assert "weasel" in before
