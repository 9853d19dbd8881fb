"""Dense PDFs: extraction time of one page of N one-character text objects, next to raw pypdfium2.

    .venv/bin/python bench/dense.py [--sizes 10000 40000 200000] [--budget 40]

For each size, draws one A4 page of letters scattered at random (each its own
text object: the worst case, where overlapping lines chain into one row) with the
test factory, then times ``policylens.extract.extract`` (all cleaning on) and raw
``pypdfium2`` (``get_text_range``: no positions, no cleaning) on it, best of
``--repeat`` runs. The budget is relative, so it holds on slow and fast machines
alike: policylens may take at most ``--budget`` times raw pypdfium2's time, and
that ratio must not grow with the page (the row merge used to be quadratic:
40,000 letters took about 90 s). Exits 1 when a size misses the budget.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _factory():  # the test helper that draws PDFs with reportlab
    spec = importlib.util.spec_from_file_location("pdf_factory", ROOT / "tests" / "pdf_factory.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules["pdf_factory"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _raw_pdfium(path: Path) -> None:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[0]
        page.get_textpage().get_text_range()
    finally:
        pdf.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 40_000, 200_000])
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs")
    parser.add_argument("--budget", type=float, default=40.0,
                        help="largest allowed ratio policylens / raw pypdfium2")
    args = parser.parse_args()

    from policylens.extract import extract

    factory = _factory()
    missed = 0
    print(f"{'characters':>10}  {'policylens s':>12}  {'pypdfium2 s':>11}  {'ratio':>6}  "
          f"{'chars/s':>9}  budget")
    with tempfile.TemporaryDirectory(prefix="policylens-dense-") as folder:
        for size in args.sizes:
            path = factory.write_dense_pdf(Path(folder) / f"dense-{size}.pdf", scatter=size)
            ours = _best(lambda p=path: extract(p), args.repeat)
            raw = _best(lambda p=path: _raw_pdfium(p), args.repeat)
            ratio = ours / raw if raw > 0 else float("inf")
            ok = ratio <= args.budget
            missed += not ok
            print(f"{size:>10}  {ours:>12.2f}  {raw:>11.3f}  {ratio:>6.1f}  {size / ours:>9.0f}  "
                  f"{'ok' if ok else 'MISSED'} (<= {args.budget:g}x)", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
