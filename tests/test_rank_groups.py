"""Metadata tables, the join, groups with bootstrap intervals and the ``Ranking`` DataFrames.

Runs on a generated collection of 1,000 small scored documents (``collection_data``), so no
tagging is needed; ``test_rank_collection_cli.py`` runs the whole path on real files.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from collection_data import REGIONS, make_collection, write_metadata_csv
from policylens.corpus.ranking import Ranking, build_ranking, load_metadata
from policylens.errors import DataError, UsageError
from policylens.rank.groups import GroupBy, bootstrap_mean, year_of
from policylens.rank.metadata import join_metadata, read_metadata


@pytest.fixture(scope="module")
def collection():
    return make_collection()


@pytest.fixture(scope="module")
def ranking(collection, tmp_path_factory: pytest.TempPathFactory) -> Ranking:
    path = tmp_path_factory.mktemp("meta") / "metadata.csv"
    write_metadata_csv(path, collection.metadata)
    return build_ranking(collection.scores, collection.ids, table=read_metadata(path, "doc_id"),
                         group_by=["region", "date:year"], compare=("Northmark", "Westreach"),
                         tagged=collection.tagged)


def test_join_counts_documents_and_rows_that_found_no_partner(ranking: Ranking) -> None:
    join = ranking.join
    assert join is not None
    assert len(join.matched) == 995
    assert join.documents_without_row == ("doc0000", "doc0001", "doc0002", "doc0003", "doc0004")
    assert join.rows_without_document == ("ghost0", "ghost1", "ghost2")
    # nothing is dropped: every document is ranked, the unmatched ones with empty metadata
    assert len(ranking) == 1000
    assert ranking.to_dict()["metadata_join"]["rows_without_document"] == ["ghost0", "ghost1", "ghost2"]


def test_group_mean_is_the_mean_of_its_members(ranking: Ranking, collection) -> None:
    by_id = {d.id: d for d in ranking.documents}
    for group in (g for g in ranking.groups if g.by == "region" and g.value is not None):
        members = [d for d in ranking.documents if d.metadata.get("region") == group.value]
        assert group.n == len(members) == len(group.documents)
        assert group.index == pytest.approx(np.mean([d.score.index for d in members]))
        assert {by_id[i].metadata["region"] for i in group.documents} == {group.value}
        central = sum(d.score.counts["centralized"] for d in members)
        assert group.share_centralized == pytest.approx(central / sum(d.score.n_sentences for d in members))
    # the documents without a row form their own group, last
    region = [g for g in ranking.groups if g.by == "region"]
    assert region[-1].value is None and region[-1].n == 5 and region[-1].label == "(none)"
    assert sum(g.n for g in region) == 1000


def test_group_intervals_contain_the_mean_and_order_the_regions(ranking: Ranking) -> None:
    region = {g.value: g for g in ranking.groups if g.by == "region"}
    for name in REGIONS:
        g = region[name]
        assert g.ci_low < g.index < g.ci_high
    # the generated regions' leanings come back in order, with intervals that do not overlap
    ordered = sorted(REGIONS, key=REGIONS.get)
    for lower, upper in itertools.pairwise(ordered):
        assert region[lower].ci_high < region[upper].ci_low


def test_interval_narrows_as_the_group_grows() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(0.2, 0.3, size=1000)
    widths = []
    for n in (10, 40, 160, 640):
        low, high = bootstrap_mean(values[:n])
        assert low < values[:n].mean() < high
        widths.append(high - low)
    assert widths == sorted(widths, reverse=True)
    assert widths[-1] < widths[0] / 4  # about 1/sqrt(n): 64 times the documents, 1/8 the width


def test_one_document_has_no_interval_and_intervals_are_reproducible() -> None:
    assert bootstrap_mean(np.array([0.4])) == (None, None)
    values = np.linspace(-0.5, 0.5, 30)
    assert bootstrap_mean(values, seed=0) == bootstrap_mean(values, seed=0)


def test_years_of_a_date_column_and_a_trend_in_time_order(ranking: Ranking) -> None:
    years = [g for g in ranking.groups if g.by == "date:year"]
    assert [g.value for g in years] == [*range(2018, 2026), None]
    assert year_of("2024-09-17") == 2024 and year_of("9/17/2024") == 2024 and year_of("") is None
    assert GroupBy.parse("date:year") == GroupBy("date", "year")
    assert GroupBy.parse("ratio:1:2") == GroupBy("ratio:1:2")  # only a known transform is split off


def test_comparison_of_two_groups(ranking: Ranking) -> None:
    (c,) = ranking.comparisons
    region = {g.value: g for g in ranking.groups if g.by == "region"}
    assert c.difference == pytest.approx(region["Northmark"].index - region["Westreach"].index)
    assert c.ci_low < c.difference < c.ci_high and c.ci_low > 0
    near = ranking.compare("Eastvale", "(none)")  # five documents without a row: a wide interval
    assert near.ci_high - near.ci_low > 4 * (c.ci_high - c.ci_low)
    with pytest.raises(UsageError, match="no --group-by column has both"):
        ranking.compare("Northmark", "Atlantis")


def test_frames_have_one_row_per_document_and_per_group(ranking: Ranking) -> None:
    frame = ranking.to_frame()
    assert len(frame) == 1000 and list(frame["rank"]) == list(range(1, 1001))
    assert {"id", "index", "ci_low", "scope", "metadata.region", "metadata.date"} <= set(frame.columns)
    assert frame["index"].is_monotonic_decreasing
    assert frame.loc[frame["id"] == "doc0000", "metadata.region"].isna().all()
    # pandas agrees with the groups
    means = frame.groupby("metadata.region")["index"].mean()
    groups = ranking.groups_frame()
    assert list(groups.columns[:6]) == ["by", "value", "n", "index", "ci_low", "ci_high"]
    for _, row in groups[(groups["by"] == "region") & groups["value"].notna()].iterrows():
        assert row["index"] == pytest.approx(means[row["value"]], abs=1e-4)


def test_json_with_groups_is_an_object_and_keeps_scope_and_metadata(ranking: Ranking) -> None:
    data = json.loads(ranking.to_json())
    assert set(data) >= {"documents", "groups", "comparisons", "metadata_join"}
    first = data["documents"][0]
    assert first["metadata"]["region"] in REGIONS
    assert first["scope"]["label"] in ("horizontal", "targeted", "none")
    assert {g["by"] for g in data["groups"]} == {"region", "date:year"}
    plain = build_ranking(ranking.scores[:3], [d.id for d in ranking.documents[:3]])
    assert isinstance(json.loads(plain.to_json()), list)  # without --group-by: the list as before


def test_parquet_round_trip(ranking: Ranking, tmp_path: Path) -> None:
    target = tmp_path / "ranking.parquet"
    ranking.to_parquet(target)
    back = pd.read_parquet(target)
    assert len(back) == 1000 and back["metadata.region"].iloc[0] in REGIONS


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_metadata_formats_read_the_same(tmp_path: Path, suffix: str) -> None:
    rows = [{"AGORA ID": 12, "Authority": "Utah", "date": "2024-03-01"},
            {"AGORA ID": 7, "Authority": "Ohio", "date": ""}]
    path = tmp_path / f"meta{suffix}"
    frame = pd.DataFrame(rows)
    if suffix == ".csv":
        path.write_text("\ufeff" + frame.to_csv(index=False), encoding="utf-8")  # with a BOM, as Excel writes
    elif suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif suffix == ".jsonl":
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    else:
        frame.to_parquet(path)
    table = read_metadata(path, "AGORA ID")
    assert table.columns == ("AGORA ID", "Authority", "date")
    assert table.rows["12"]["Authority"] == "Utah" and table.rows["7"]["date"] is None
    join = join_metadata(["12", "99"], table)
    assert list(join.matched) == ["12"] and join.documents_without_row == ("99",)
    assert join.rows_without_document == ("7",)


def test_metadata_errors_are_clear(tmp_path: Path) -> None:
    path = tmp_path / "meta.csv"
    path.write_text("id,region\na,North\na,South\n", encoding="utf-8")
    table = read_metadata(path, "id")
    assert table.rows["a"]["region"] == "North" and table.duplicates == ("a",)
    with pytest.raises(DataError, match=r"no column 'key' to join on \(columns: 'id', 'region'\)"):
        read_metadata(path, "key")
    with pytest.raises(DataError, match="no such metadata file"):
        read_metadata(tmp_path / "absent.csv", "id")
    with pytest.raises(UsageError, match=r"\.csv, \.tsv, \.jsonl or \.parquet"):
        read_metadata(tmp_path / "meta.xlsx", "id")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\nnot json\n', encoding="utf-8")
    with pytest.raises(DataError, match="line 2: not JSON"):
        read_metadata(bad, "id")
    with pytest.raises(UsageError, match="--metadata needs --key"):
        load_metadata(path, None)
    with pytest.raises(UsageError, match="no column 'country'"):
        build_ranking([], [], table=table, group_by=["country"])


def test_silent_documents_are_counted_and_can_be_left_out(collection) -> None:
    from dataclasses import replace as with_

    # the first eight documents say nothing about governance: index 0, the whole axis as interval
    scores = [with_(s, index=0.0, ci_low=-1.0, ci_high=1.0) if i < 8 else s
              for i, s in enumerate(collection.scores)]
    table = load_metadata(pd.DataFrame(collection.metadata), "doc_id")
    kept = build_ranking(scores, collection.ids, table=table, group_by=["region"])
    left = build_ranking(scores, collection.ids, table=table, group_by=["region"],
                         exclude_silent=True)
    k = {g.value: g for g in kept.groups}
    x = {g.value: g for g in left.groups}
    # doc0000..doc0004 have no row; doc0005..doc0007 are silent members of three regions
    assert sum(g.n_silent for g in kept.groups) == 8 and k[None].n_silent == k[None].n == 5
    assert None not in x  # a group of silent documents only is left out
    for region in ("Eastvale", "Southport", "Westreach"):
        assert x[region].n == k[region].n - 1 and x[region].n_silent == 1
    assert len(left) == 1000  # silent documents stay in the ranking
    assert "n_silent" in left.groups_frame().columns
