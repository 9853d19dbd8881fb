"""Where the benchmarks find the real documents: ``../shared/corpus`` beside the checkout.

Set ``POLICYLENS_CORPUS`` to read them from elsewhere. The documents are read in
place and never copied into the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

CORPUS = Path(os.environ.get("POLICYLENS_CORPUS")
              or Path(__file__).resolve().parents[1].parent / "shared" / "corpus")
