"""Benchmark: the HTML report of a large collection, its size and how long Chromium takes to open it.

Usage: ``python bench/report.py [--report FILE.html] [--documents 1000] [--runs 5]``

Without ``--report`` it builds the report of a generated collection (``--documents`` scored
documents of 40 sentences, grouped by two metadata columns; no tagging). The load time is the
time from navigation to the end of the load event, read inside the page (a copy of the report
gets a probe script that records ``performance.timing``), minus the same for a blank page;
median of ``--runs`` runs of ``chromium --headless --dump-dom``. The wall time of the whole
``--dump-dom`` call is printed too (it adds serialising the DOM, several MB, to stdout).
Target: under 3 s more than a blank page, and a file under 8 MB for 1,000 documents.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from policylens.corpus.ranking import build_ranking, load_metadata
from policylens.labels import LABELS
from policylens.nlp.types import TaggedDocument, TaggedSentence
from policylens.rank.types import Evidence, FrameworkScore

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync")
TEXT = ("The {r} regulator will apply its existing powers to systems used in its own sector, and the "
        "ministry will publish guidance on procurement and testing, clause {i}.")


def generated(n: int, sentences: int = 40):  # type: ignore[no-untyped-def]
    import pandas as pd

    rng = np.random.default_rng(0)
    regions = ["North", "East", "South", "West"]
    scores, tagged, ids, rows = [], {}, [], []
    for k in range(n):
        region, source = regions[k % 4], f"generated/{k}.txt"
        labels = rng.choice(LABELS, size=sentences, p=[0.25, 0.25, 0.5])
        sents = tuple(TaggedSentence(doc=source, sentence_id=i, text=TEXT.format(r=region, i=i),
                                     label=str(lab), probs=dict(zip(LABELS, (0.4, 0.3, 0.3), strict=True)),
                                     page=1 + i // 10)
                      for i, lab in enumerate(labels))  # type: ignore[arg-type]
        tagged[source] = TaggedDocument(source=source, title=f"Generated framework {k}", sha256=f"{k:064x}",
                                        n_pages=4, sentences=sents, model_version="bench")
        index = float(np.clip(rng.normal(0, 0.4), -0.99, 0.99))
        evidence = tuple(Evidence(text=s.text, label=s.label, page=s.page, weight=0.05) for s in sents[:10])
        scores.append(FrameworkScore(doc=source, title=f"Generated framework {k}", index=index,
                                     ci_low=max(-1, index - 0.2), ci_high=min(1, index + 0.2),
                                     n_sentences=sentences,
                                     counts={lab: int((labels == lab).sum()) for lab in LABELS},
                                     facets={}, evidence=evidence, model_version="bench"))
        ids.append(str(k))
        rows.append({"id": str(k), "region": region, "date": f"{2018 + k % 8}-06-01"})
    table = load_metadata(pd.DataFrame(rows), "id")
    return build_ranking(scores, ids, table=table, group_by=["region", "date:year"], tagged=tagged)


PROBE = ('<script>window.addEventListener("load", function () { setTimeout(function () {'
         'var t = performance.timing; document.body.setAttribute("data-load-ms", '
         't.loadEventEnd - t.navigationStart); }, 0); });</script></body>')


def probed(source: Path, target: Path) -> Path:
    html = source.read_text(encoding="utf-8")
    at = html.rindex("</body>")
    target.write_text(html[:at] + PROBE + html[at + len("</body>"):], encoding="utf-8")
    return target


def open_seconds(browser: str, url: str) -> tuple[float, float]:
    """(seconds to the end of the load event, inside the page; wall seconds of the browser call)."""
    with tempfile.TemporaryDirectory(prefix="policylens-bench-") as profile:
        start = time.perf_counter()
        done = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url], check=True,
                              capture_output=True, timeout=120, text=True)
        wall = time.perf_counter() - start
    found = re.search(r'data-load-ms="(\d+)"', done.stdout)
    if not found:
        raise SystemExit("the page did not record its load time")
    return int(found.group(1)) / 1000, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path)
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    browser = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    with tempfile.TemporaryDirectory() as folder:
        report = args.report
        if report is None:
            report = Path(folder) / "report.html"
            start = time.perf_counter()
            generated(args.documents).to_report(report)
            seconds = time.perf_counter() - start
            print(f"generated report of {args.documents} documents written in {seconds:.1f} s")
        size = report.stat().st_size
        print(f"{report.name}: {size / 2**20:.2f} MB (target < 8 MB)")
        if browser is None:
            print("no Chromium found: load time not measured (apt-get install chromium)")
            sys.exit(0)
        blank = Path(folder) / "blank.html"
        blank.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
        blank = probed(blank, blank)
        page = probed(report, Path(folder) / "probed.html")
        blank_times, report_times = [], []
        for _ in range(args.runs):  # interleaved, so a busy moment hits both
            blank_times.append(open_seconds(browser, blank.resolve().as_uri()))
            report_times.append(open_seconds(browser, page.resolve().as_uri()))
        for i, what in enumerate(("load event (in the page)", "whole --dump-dom call")):
            b = statistics.median(t[i] for t in blank_times)
            r = statistics.median(t[i] for t in report_times)
            print(f"{what}: blank page {b:.2f} s, report {r:.2f} s (median of {args.runs}): "
                  f"{r - b:+.2f} s more than a blank page (target < 3 s)")


if __name__ == "__main__":
    main()
