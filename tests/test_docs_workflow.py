"""docs/workflow.md, executed: every ``$ policylens`` command and every Python snippet in it runs on a
small generated collection laid out like the AGORA archive (documents written for this test).

Then the outputs are checked end to end: the join's counts and loose ends, a group's mean equal to
the mean of its members, the comparison, the report.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policylens.cli import app
from test_report_data import page_data

DOC = Path(__file__).resolve().parents[1] / "docs" / "workflow.md"

CENTRAL = ["The {a} establishes one national authority that supervises every artificial intelligence "
           "provider in all sectors.",
           "Every high-risk system must be entered in a single central register before it is sold.",
           "The authority issues binding rules that apply across the whole economy."]
SECTOR = ["Existing regulators will apply their own powers to artificial intelligence in their own fields.",
          "The {a} health regulator will issue guidance on software used for diagnosis.",
          "No new regulator for artificial intelligence will be created."]
NEUTRAL = ["Funding for digital skills courses will rise next year.",
           "The {a} will publish a progress report in the spring."]
# (authority, centralized sentences per document): Chinese documents lean centralized here, California
# documents sector-specific, Congress in between
AUTHORITIES = [("Chinese central government", 3), ("California", 0), ("United States Congress", 1)]


def write_collection(root: Path, per_group: int = 4) -> list[dict[str, str]]:
    folder = root / "agora" / "fulltext"
    folder.mkdir(parents=True)
    rows = []
    number = 1
    for authority, central in AUTHORITIES:
        for k in range(per_group):
            lines = [s.format(a=authority) for s in CENTRAL[:central] + SECTOR[: 3 - central] + NEUTRAL]
            title = f"This Act may be cited as the “{authority.split()[0]} Model Act {k + 1}”."
            text = title + "\n\n" + "\n\n".join(lines) + "\n"
            (folder / f"{number}.txt").write_text(text, encoding="utf-8")
            rows.append({"AGORA ID": str(number), "Official name": f"{authority} measure {k + 1}",
                         "Authority": authority, "Most recent activity date": f"{2023 + k % 2}-0{1 + k}-10"})
            number += 1
    rows.append({"AGORA ID": "999", "Official name": "withdrawn", "Authority": "Utah",
                 "Most recent activity date": "2022-05-01"})  # a row without a document
    # a document without a row
    (folder / "500.txt").write_text("A short note on the weather.\n", encoding="utf-8")
    with open(root / "agora" / "documents.csv", "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("workflow")
    write_collection(root)
    results: dict = {"root": root, "commands": [], "python": []}
    runner = CliRunner()
    with contextlib.chdir(root):
        for block in blocks("console"):
            for line in block.splitlines():
                if not line.startswith("$ policylens "):
                    continue
                args = shlex.split(line[len("$ policylens "):])
                if "--workers" not in args:
                    args += ["--workers", "1"]  # one worker process: the suite runs on two cores
                result = runner.invoke(app, args)
                results["commands"].append((line, result))
        for block in blocks("python"):
            out = io.StringIO()
            namespace: dict = {}
            with contextlib.redirect_stdout(out):
                exec(compile(block, str(DOC), "exec"), namespace)  # the page's own snippet
            results["python"].append((namespace, out.getvalue()))
    return results


def test_the_page_has_commands_and_snippets_to_run() -> None:
    assert len([ln for b in blocks("console") for ln in b.splitlines() if ln.startswith("$ policylens")]) >= 2
    assert len(blocks("python")) >= 1


def test_every_command_succeeds_and_reports_the_join(executed) -> None:
    for line, result in executed["commands"]:
        assert result.exit_code == 0, (line, result.output)
        stderr = " ".join(result.stderr.split())
        assert "metadata: 12 of 13 documents joined a row" in stderr
        assert "1 documents without a row: 500" in stderr and "1 rows without a document: 999" in stderr


def test_grouped_table_follows_the_documents(executed) -> None:
    line, result = executed["commands"][0]
    assert "--report" in line
    out = result.stdout
    assert out.index("Centralization ranking") < out.index("Groups by Authority") < out.index(
        "Groups by Most recent activity date:year")
    data = page_data((executed["root"] / "agora.html").read_text(encoding="utf-8"))
    assert len(data["documents"]) == 13


def test_json_groups_are_the_means_of_their_members(executed) -> None:
    data = json.loads((executed["root"] / "ranking.json").read_text(encoding="utf-8"))
    assert set(data) >= {"documents", "groups", "comparisons", "metadata_join"}
    documents = data["documents"]
    for group in data["groups"]:
        members = [d["index"] for d in documents if d["metadata"].get("Authority") == group["value"]]
        if group["value"] is None:
            members = [d["index"] for d in documents if not d["metadata"]]
        assert group["by"] == "Authority" and group["n"] == len(members)
        assert group["index"] == pytest.approx(sum(members) / len(members), abs=1e-3)
        if group["n"] > 1:
            assert group["ci_low"] <= group["index"] <= group["ci_high"]
    (comparison,) = data["comparisons"]
    assert comparison["a"] == "Chinese central government" and comparison["b"] == "California"
    assert comparison["difference"] > 0  # the generated Chinese documents lean centralized
    titles = {d["id"]: d["title"] for d in documents}
    assert titles["1"] == "Chinese Model Act 1" and titles["500"] != "500"  # titles from the text


def test_python_snippet_gives_frames_and_a_comparison(executed) -> None:
    namespace, printed = executed["python"][0]
    frame, groups = namespace["frame"], namespace["groups"]
    assert len(frame) == 13 and "metadata.Authority" in frame.columns
    means = namespace["means"]
    for _, row in groups[groups["by"] == "Authority"].dropna(subset=["value"]).iterrows():
        assert row["index"] == pytest.approx(means[row["value"]], abs=1e-3)
    difference = namespace["difference"]
    assert difference.difference > 0 and "Chinese central government" in printed
    assert (executed["root"] / "agora.html").stat().st_size > 0


def test_usage_errors_come_before_any_work(tmp_path: Path) -> None:
    write_collection(tmp_path, per_group=1)
    runner = CliRunner()
    base = ["rank", str(tmp_path / "agora" / "fulltext")]
    meta = ["--metadata", str(tmp_path / "agora" / "documents.csv")]
    cases = [
        ([*base, *meta], "--metadata needs --key"),
        ([*base, *meta, "--key", "ID"], "no column 'ID' to join on"),
        ([*base, *meta, "--key", "AGORA ID", "--group-by", "Country"], "no column 'Country'"),
        ([*base, "--compare", "a", "b"], "--compare needs --group-by"),
        ([*base, "--group-by", "Authority"], "--group-by needs --metadata"),
        ([*base, "--format", "parquet"], "--format parquet writes a file"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in " ".join(result.stderr.split())
