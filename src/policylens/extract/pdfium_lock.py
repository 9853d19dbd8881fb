"""The one process-wide lock that every call into PDFium holds.

PDFium keeps global state and is not thread-safe: two threads inside it at once,
even on different documents, can corrupt memory and crash the process (a Dask
worker with two threads segfaulted). pypdfium2 adds no locking of its own. So
whatever opens, reads or closes a pypdfium2 object (``PdfDocument``, ``PdfPage``,
``PdfTextPage`` or a raw handle of one) does it inside ``with PDFIUM_LOCK:``.

The lock is taken once per page (see ``pdf.read_pdf`` and
``pdfium_reader.read_page``), not per call, so the single-threaded cost is one
uncontended acquire per page, and threads reading different documents take turns
page by page. Work outside PDFium (cleaning, layout, pdfplumber's pdfminer parsing)
runs unlocked and in parallel. pdfplumber itself calls pypdfium2 only to render
page images (``Page.to_image``), which policylens never does; code that adds such a
call must hold this lock around it.

It is re-entrant, so a helper that takes it may be called with it already held.
"""

from __future__ import annotations

import threading

PDFIUM_LOCK = threading.RLock()

__all__ = ["PDFIUM_LOCK"]
