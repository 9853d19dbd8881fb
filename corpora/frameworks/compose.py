"""Compose the framework scorer's training and test frameworks from ``sentences.tsv``.

Usage: ``python corpora/frameworks/compose.py`` (rewrites ``docs/`` and ``gold.jsonl``).

Every sentence template in ``sentences.tsv`` was written for this purpose and is
labelled (centralized / sector_specific / neutral) and assigned to a split. A
framework draws only from its own split's templates, so the held-out frameworks
contain sentences the scorer never saw. Each framework gets a target position,
a number of governance sentences and a neutral share; its **gold position** is
``(n_centralized - n_sector_specific) / (n_centralized + n_sector_specific)``
over the governance sentences it was composed from. Seeded, so reruns are identical.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20250
N_TRAIN, N_TEST = 36, 14

LANDS = ["Arvenia", "the Calder Republic", "Eskeland", "the Federated Marches", "Gorsk", "Halvaria",
         "the Isle of Quenby", "Juradia", "Korvath", "the Lindmoor Union", "Maresh", "Nolvania",
         "the Orrin Territories", "Pellucia", "Questria", "Ravensholm", "Sarnia Minor", "Tolvany",
         "Ulmeria", "Vesk", "the Westmark Confederation", "Yarrowdale", "Zembla", "Brightwater"]
BODIES = ["National AI Commission", "Algorithmic Systems Authority", "Office of the AI Commissioner",
          "Digital Intelligence Agency", "AI Safety Board", "Federal AI Office"]
SECTOR_REGS = [("Health Products Board", "health care"), ("Banking Commission", "banking"),
               ("Transport Safety Office", "road transport"), ("Schools Inspectorate", "education"),
               ("Labour Standards Agency", "recruitment"), ("Energy Regulator", "the electricity grid"),
               ("Insurance Supervisor", "insurance"), ("Aviation Authority", "aviation")]
MINISTRIES = ["Economy", "Digital Affairs", "Science", "Industry", "Innovation"]
KINDS = ["Artificial Intelligence Act", "AI Policy Statement", "National AI Framework",
         "AI Governance Guidelines", "White Paper on AI Regulation", "AI Strategy"]


def load_templates() -> dict[tuple[str, str], list[str]]:
    pools: dict[tuple[str, str], list[str]] = {}
    with (HERE / "sentences.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            pools.setdefault((row["label"], row["split"]), []).append(row["text"])
    return pools


def draw(rng: random.Random, pool: list[str], k: int) -> list[str]:
    """``k`` templates, without repeats while the pool lasts."""
    out: list[str] = []
    while len(out) < k:
        out.extend(rng.sample(pool, min(len(pool), k - len(out))))
    return out


def compose(rng: random.Random, index: int, split: str, target: float,
            pools: dict[tuple[str, str], list[str]]) -> tuple[str, dict[str, object]]:
    land = rng.choice(LANDS)
    body = rng.choice(BODIES)
    governance = rng.randint(6, 18)
    n_c = round(governance * (1 + target) / 2)
    n_s = governance - n_c
    n_n = round(governance * rng.uniform(1.0, 2.5))
    labelled = ([("centralized", t) for t in draw(rng, pools["centralized", split], n_c)]
                + [("sector_specific", t) for t in draw(rng, pools["sector_specific", split], n_s)]
                + [("neutral", t) for t in draw(rng, pools["neutral", split], n_n)])
    rng.shuffle(labelled)
    lines = [f"# {rng.choice(KINDS)} of {land[4:] if land.startswith('the ') else land}", ""]
    paragraph: list[str] = []
    section = 1
    for i, (_, template) in enumerate(labelled):
        reg, sector = rng.choice(SECTOR_REGS)
        text = template.format(land=land, body=body, sector_reg=reg, sector=sector,
                               ministry=rng.choice(MINISTRIES), year=rng.randint(2024, 2028),
                               n=rng.choice([12, 40, 75, 150, 300]))
        paragraph.append(text[0].upper() + text[1:])
        if len(paragraph) == 3 or i == len(labelled) - 1:
            if (section - 1) % 2 == 0:
                lines += [f"## Section {section // 2 + 1}", ""]
            lines += [" ".join(paragraph), ""]
            paragraph = []
            section += 1
    position = (n_c - n_s) / (n_c + n_s)
    name = f"fw-{index:02d}.md"
    gold = {"file": f"docs/{name}", "split": split, "position": round(position, 4),
            "n_centralized": n_c, "n_sector_specific": n_s, "n_neutral": n_n}
    return "\n".join(lines), gold


def main() -> None:
    rng = random.Random(SEED)
    pools = load_templates()
    docs = HERE / "docs"
    docs.mkdir(exist_ok=True)
    for old in docs.glob("fw-*.md"):
        old.unlink()
    golds = []
    plan = [("train", -1 + 2 * (i + 0.5) / N_TRAIN) for i in range(N_TRAIN)]
    plan += [("test", -1 + 2 * (i + 0.5) / N_TEST) for i in range(N_TEST)]
    rng.shuffle(plan)
    for index, (split, target) in enumerate(plan, start=1):
        text, gold = compose(rng, index, split, target, pools)
        (docs / Path(str(gold["file"])).name).write_text(text, encoding="utf-8")
        golds.append(gold)
    with (HERE / "gold.jsonl").open("w", encoding="utf-8") as handle:
        for gold in golds:
            handle.write(json.dumps(gold) + "\n")
    print(f"wrote {len(golds)} frameworks to {docs}")


if __name__ == "__main__":
    main()
