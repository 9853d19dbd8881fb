"""The one error hierarchy of policylens.

Every error a user can cause or meet carries a stable ``code`` (for scripts and
the store's run log) and a message that says what to do next. The CLI turns a
``PolicylensError`` into a one-line message and an exit code; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations


class PolicylensError(Exception):
    """Base class: a problem with the user's input or environment, not a bug."""

    code: str = "error"
    exit_code: int = 1

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class UsageError(PolicylensError):
    """Bad options or arguments (exit code 2)."""

    code = "usage"
    exit_code = 2


# --- extraction -----------------------------------------------------------------


class ExtractionError(PolicylensError):
    """A document could not be read."""

    code = "extract"


class UnsupportedFileType(ExtractionError):
    code = "unsupported_type"


class EmptyFile(ExtractionError):
    code = "empty_file"


class CorruptFile(ExtractionError):
    code = "corrupt"


class EncryptedPDF(ExtractionError):
    code = "encrypted"


class NoTextLayer(ExtractionError):
    """Every page is an image (a scan) and OCR was not requested or not available."""

    code = "no_text_layer"


# --- models and tagging ---------------------------------------------------------


class ModelError(PolicylensError):
    """A model is missing, malformed, or was made by incompatible library versions."""

    code = "model"


class DataError(PolicylensError):
    """An annotation or evaluation file is malformed."""

    code = "data"
    exit_code = 2


# --- corpus, store, refresh -------------------------------------------------------


class ManifestError(PolicylensError):
    """A corpus manifest is invalid (exit code 2)."""

    code = "manifest"
    exit_code = 2


class StoreError(PolicylensError):
    code = "store"


class FetchError(PolicylensError):
    code = "fetch"


class LockHeld(PolicylensError):
    """Another refresh holds the store's lock (exit code 3)."""

    code = "locked"
    exit_code = 3


class EngineError(PolicylensError):
    code = "engine"


# --- report ---------------------------------------------------------------------


class ReportError(PolicylensError):
    """The HTML report could not be written (folder missing or not writable)."""

    code = "report"
