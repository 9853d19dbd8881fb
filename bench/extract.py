"""Benchmark the extraction stage (run by hand: ``.venv/bin/python bench/extract.py``).

Compares, in one run and on the same files, pages/s and peak RSS of
* ``policylens`` — ``policylens.extract.extract`` with all cleaning on (tables included),
* ``no-tables``  — the same with ``tables=False`` (what table detection costs),
* ``plumber``    — plain ``pdfplumber`` ``page.extract_text()`` (on a sample of pages per document),
* ``pdfium``     — raw ``pypdfium2`` ``get_text_range()`` (no positions, no cleaning),
on the PDFs in ../shared/corpus (read in place) and on generated PDFs (in a temp dir).
Each engine runs in a fresh subprocess so its peak RSS is its own, with its library imported
before the clock starts (start-up is measured by bench/startup.py); ``--cpu N`` pins those
subprocesses to one core and ``--repeat N`` runs each N times and reports the median rate
(other work on a shared machine makes single runs noisy; the load average is printed).
It also reports word recovery (share of source words found, in order) and header/footer
leftovers on generated PDFs.

The rows of issue 14 come last (``--only issue`` runs just them), each a ratio to its anchor
measured in the same run:
* ``extract`` in process on the EU AI Act, the NIST AI RMF 1.0 and the UK white paper, each
  document in its own fresh process, against raw pypdfium2 ``get_text_range`` on every page of
  the same document (target >= 0.5);
* the ``policylens extract`` CLI (a fresh process, default workers, ``--out`` a temp folder)
  over the six framework PDFs in ``SIX`` against plain pdfplumber ``extract_text`` on
  ``CLI_SAMPLE`` evenly spread pages of each of them (target >= 25x).
Both ratios are given per wall-clock second (what a user waits) and per CPU second (what the
work costs, less disturbed by other load on a shared machine).
"""

from __future__ import annotations

import argparse
import difflib
import glob
import importlib.util
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _corpus import CORPUS as SHARED_CORPUS

ROOT = Path(__file__).resolve().parent.parent
CORPUS = str(SHARED_CORPUS / "*.pdf")
PLUMBER_SAMPLE = 6  # pages per document for plain pdfplumber (it runs at a few pages/s)
# Issue 14's rows. The three documents it names, and the six "main framework PDFs" of its CLI
# row: those three plus the other documents the corpus MANIFEST.tsv types `framework`.
NAMED = ("eu_ai_act_2024.pdf", "nist_ai_rmf_1_0.pdf", "uk_pro_innovation_ai_regulation_white_paper_2023.pdf")
SIX = (*NAMED, "nist_ai_600_1_genai_profile_2024.pdf", "sg_model_ai_governance_framework_genai_2024.pdf",
       "sg_model_ai_governance_framework_2nd_ed_2020.pdf")
CLI_SAMPLE = 10  # evenly spread pages per document for plain pdfplumber in the CLI row
HEADER = "Benchmark Rules on Automated Decisions - Working Draft"
FOOTER = "Prepared for the policylens benchmark"


def _factory():  # the test helper that draws PDFs with reportlab
    spec = importlib.util.spec_from_file_location("pdf_factory", ROOT / "tests" / "pdf_factory.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules["pdf_factory"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


_WORDS = {
    "subject": ["The coordinating office", "Each sector regulator", "A provider of a scoring tool",
                "The national registry", "Every deploying agency", "The review panel", "A notified body",
                "The supervisory authority"],
    "verb": ["shall publish", "must keep", "may request", "shall review", "must report", "should share",
             "shall assess", "may suspend"],
    "object": ["a yearly summary of incidents", "the logs of every automated decision",
               "evidence of testing before deployment", "the criteria used to rank applicants",
               "a plain account of known limitations", "the contact details of a responsible person",
               "the results of independent audits", "a register of high-risk uses"],
    "tail": ["within thirty days.", "before the tool is used on the public.", "when asked by the panel.",
             "in a form that citizens can read.", "unless a shorter period is set by decree.",
             "together with the opinion of the affected sector.", "at least once every two years.",
             "where the risk to health or safety is significant."],
}


def source_pages(n_pages: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    pages = []
    for p in range(n_pages):
        paras = [f"# Article {p + 1}"]
        for _ in range(3):
            parts = ("subject", "verb", "object", "tail")
            sentences = [" ".join(rng.choice(_WORDS[k]) for k in parts) for _ in range(rng.randint(3, 5))]
            paras.append(" ".join(sentences))
        pages.append(paras)
    return pages


def source_words(pages: list[list[str]]) -> list[str]:
    return " ".join(p.removeprefix("# ") for page in pages for p in page).split()


# --- worker side --------------------------------------------------------------------


def _spread(n_pages: int, sample: int) -> list[int]:
    """``sample`` page indices spread evenly over a document (all of them if it is shorter)."""
    if n_pages <= sample:
        return list(range(n_pages))
    return sorted({i * n_pages // sample for i in range(sample)})


def work(engine: str, files: list[str], sample: int | None, cpu: int | None = None) -> dict:
    """Time one engine on ``files`` in this (fresh) process; its library is imported first,
    since loading it is start-up time, not extraction (the CLI row includes everything)."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    if engine in ("policylens", "no-tables"):
        import policylens.extract.pdf  # noqa: F401  (extract imports the PDF reader on first use)
    elif engine in ("pdfium", "cli"):
        import pypdfium2  # noqa: F401
    elif engine in ("plumber", "plumber-spread"):
        import pdfplumber
    pages = 0
    start = time.perf_counter()
    cpu_start = time.process_time()
    if engine == "cli":  # the command a user runs, in its own process; its pages come from pypdfium2
        with tempfile.TemporaryDirectory(prefix="policylens-bench-cli-") as out:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([str(Path(sys.executable).with_name("policylens")), "extract", *files,
                            "--out", out, "--quiet"], check=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds = time.perf_counter() - start
        import pypdfium2 as pdfium

        for f in files:
            pdf = pdfium.PdfDocument(f)
            pages += len(pdf)
            pdf.close()
        cpu_seconds = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return {"pages": pages, "seconds": seconds, "cpu_seconds": cpu_seconds,
                "rss_mb": after.ru_maxrss / 1024}
    if engine in ("policylens", "no-tables"):
        from policylens.extract import extract

        settings = {"tables": False} if engine == "no-tables" else None
        for f in files:
            pages += extract(f, settings).n_pages
    elif engine == "pdfium":
        import pypdfium2 as pdfium

        for f in files:
            pdf = pdfium.PdfDocument(f)
            for i in range(len(pdf)):
                page = pdf[i]
                textpage = page.get_textpage()
                textpage.get_text_range()
                textpage.close()
                page.close()
                pages += 1
            pdf.close()
    elif engine in ("plumber", "plumber-spread"):
        import pdfplumber

        for f in files:
            with pdfplumber.open(f) as pdf:
                chosen = (_spread(len(pdf.pages), sample) if engine == "plumber-spread" and sample
                          else range(len(pdf.pages))[: sample or None])
                for index in chosen:
                    page = pdf.pages[index]
                    page.extract_text()
                    page.close()
                    pages += 1
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"pages": pages, "seconds": seconds, "cpu_seconds": cpu_seconds, "rss_mb": rss_mb}


def run_worker(engine: str, files: list[str], sample: int | None = None, *, cpu: int | None = None,
               repeat: int = 1) -> dict:
    """Run ``engine`` ``repeat`` times in fresh processes; the run with the median rate is kept."""
    cmd = [sys.executable, __file__, "--worker", engine, "--sample", str(sample or 0)]
    if cpu is not None:
        cmd += ["--cpu", str(cpu)]
    runs = []
    for _ in range(repeat):
        done = subprocess.run([*cmd, *files], capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    median = statistics.median_low([r["pages"] / r["seconds"] for r in runs])
    chosen = next(r for r in runs if r["pages"] / r["seconds"] == median)
    return {**chosen, "rates": [round(r["pages"] / r["seconds"], 1) for r in runs]}


# --- parent side --------------------------------------------------------------------


def recovery(pdf: Path, pages: list[list[str]]) -> tuple[float, int]:
    """Share of source words recovered in order, and blocks still holding header/footer text."""
    from policylens.extract import extract

    document = extract(pdf)
    got = " ".join(b.text for b in document.body_blocks).split()
    want = source_words(pages)
    matcher = difflib.SequenceMatcher(None, want, got, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    page_number = re.compile(r"\bPage \d+ of \d+\b")
    leftovers = sum(1 for b in document.blocks
                    if HEADER in b.text or FOOTER in b.text or page_number.search(b.text))
    return matched / len(want), leftovers


def _rates(r: dict) -> tuple[float, float]:
    return r["pages"] / r["seconds"], r["pages"] / max(r["cpu_seconds"], 1e-9)


def issue_rows(cpu: int | None, repeat: int) -> None:
    """Issue 14's extraction rows, each a ratio to its anchor measured in the same run."""
    load = os.getloadavg()
    print(f"\nIssue 14 rows (load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; median of {repeat}; "
          "each process fresh)\n")
    print(f"{'document':<52} {'pages':>5} {'raw p/s':>8} {'ours p/s':>9} {'ratio':>6} {'cpu ratio':>9}"
          "  target >= 0.5")
    for name in NAMED:
        path = str(SHARED_CORPUS / name)
        raw = run_worker("pdfium", [path], cpu=cpu, repeat=repeat)
        ours = run_worker("policylens", [path], cpu=cpu, repeat=repeat)
        (raw_wall, raw_cpu), (our_wall, our_cpu) = _rates(raw), _rates(ours)
        print(f"{name:<52} {ours['pages']:>5} {raw_wall:>8.1f} {our_wall:>9.1f} {our_wall / raw_wall:>6.2f} "
              f"{our_cpu / raw_cpu:>9.2f}  runs {raw['rates']} / {ours['rates']}")
    six = [str(SHARED_CORPUS / name) for name in SIX]
    plumber = run_worker("plumber-spread", six, CLI_SAMPLE, cpu=cpu)
    cli = run_worker("cli", six, repeat=repeat)  # not pinned: the CLI's default workers are the user's
    (plumber_wall, plumber_cpu), (cli_wall, cli_cpu) = _rates(plumber), _rates(cli)
    print(f"\n`policylens extract` CLI over the six ({', '.join(n.removesuffix('.pdf') for n in SIX)}):")
    print(f"  CLI {cli['pages']} pages: {cli_wall:.1f} pages/s wall, {cli_cpu:.1f} per CPU-s "
          f"(runs {cli['rates']})")
    print(f"  plain pdfplumber on {plumber['pages']} spread pages: {plumber_wall:.2f} pages/s wall, "
          f"{plumber_cpu:.2f} per CPU-s")
    print(f"  ratio: {cli_wall / plumber_wall:.1f}x wall, {cli_cpu / plumber_cpu:.1f}x CPU  (target >= 25x)")
    load = os.getloadavg()
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def main(cpu: int | None, repeat: int, only: str | None) -> None:
    load = os.getloadavg()
    pinned = f"core {cpu}" if cpu is not None else "no core"
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores; "
          f"workers pinned to {pinned}; {repeat} run(s) each, median shown")
    if only == "issue":
        issue_rows(cpu, repeat)
        return
    factory = _factory()
    corpus = sorted(glob.glob(CORPUS))
    rows = []
    with tempfile.TemporaryDirectory(prefix="policylens-bench-") as tmp:
        two_col_pages = source_pages(300, seed=1)
        two_col = factory.write_pdf(Path(tmp) / "two_columns_300.pdf", two_col_pages, columns=2,
                                    header=HEADER, footer=FOOTER)
        big_pages = source_pages(500, seed=2)
        big = factory.write_pdf(Path(tmp) / "single_500.pdf", big_pages, header=HEADER, footer=FOOTER)
        sets = [(f"corpus ({len(corpus)} PDFs)", [str(f) for f in corpus]),
                ("generated 2-col", [str(two_col)]), ("generated 500 p", [str(big)])]
        for label, files in sets:
            results = {}
            for engine in ("pdfium", "policylens", "no-tables", "plumber"):
                sample = PLUMBER_SAMPLE if engine == "plumber" else None
                results[engine] = run_worker(engine, files, sample, cpu=cpu,
                                             repeat=1 if engine == "plumber" else repeat)
            rows.append((label, results))

        print(f"\nExtraction benchmark (1 process per engine; plain pdfplumber on the first "
              f"{PLUMBER_SAMPLE} pages of each PDF)\n")
        print(f"{'set':<18} {'engine':<11} {'pages':>6} {'sec':>7} {'pages/s':>8} {'p/cpu-s':>8} "
              f"{'peak RSS MB':>12} {'vs plumber':>11}  runs (pages/s)")
        for label, results in rows:
            plumber_rate = results["plumber"]["pages"] / results["plumber"]["seconds"]
            for engine, r in results.items():
                rate = r["pages"] / r["seconds"]
                cpu_rate = r["pages"] / max(r["cpu_seconds"], 1e-9)
                print(f"{label:<18} {engine:<11} {r['pages']:>6} {r['seconds']:>7.1f} {rate:>8.1f} "
                      f"{cpu_rate:>8.1f} {r['rss_mb']:>12.0f} {rate / plumber_rate:>10.1f}x  {r['rates']}")
        load = os.getloadavg()
        print(f"\nload average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")

        print("\nWord recovery on generated PDFs (share of source words found in order):")
        for name, pages, kwargs in (("2 columns", source_pages(40, seed=3), {"columns": 2}),
                                    ("1 column", source_pages(40, seed=4), {})):
            pdf = factory.write_pdf(Path(tmp) / f"recovery_{kwargs.get('columns', 1)}.pdf", pages,
                                    header=HEADER, footer=FOOTER, **kwargs)
            share, leftovers = recovery(pdf, pages)
            print(f"  {name:<10} 40 pages: {share:.2%} words recovered, {leftovers} header/footer leftovers")
    issue_rows(cpu, repeat)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker")
    parser.add_argument("--sample", type=int, default=0)
    parser.add_argument("--cpu", type=int, default=None, help="pin the timed processes to this core")
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine (median reported)")
    parser.add_argument("--only", choices=["issue"], help="run only issue 14's rows")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(work(args.worker, args.files, args.sample or None, args.cpu)))
    else:
        main(args.cpu, max(1, args.repeat), args.only)
