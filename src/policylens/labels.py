"""The codebook's vocabulary (../shared/CODEBOOK.md v2.0, restated in docs/codebook.md).

Kept in one place so that every stage, data file and test agrees on spelling.
"""

from __future__ import annotations

from typing import Final, Literal

Label = Literal["centralized", "sector_specific", "neutral"]
Approach = Literal["centralized", "sector_specific"]

Scope = Literal["horizontal", "targeted", "none"]
Role = Literal["architecture", "provision", "other"]

LABELS: Final[tuple[Label, ...]] = ("centralized", "sector_specific", "neutral")
APPROACHES: Final[tuple[Approach, ...]] = ("centralized", "sector_specific")
#: A document's instrument scope (codebook section 1).
SCOPES: Final[tuple[Scope, ...]] = ("horizontal", "targeted", "none")
#: A sentence's role (codebook section 2).
ROLES: Final[tuple[Role, ...]] = ("architecture", "provision", "other")

SECTORS: Final[tuple[str, ...]] = (
    "healthcare",
    "finance",
    "transportation",
    "education",
    "employment",
    "law_enforcement_justice",
    "defense_security",
    "energy_infrastructure",
    "telecommunications",
    "agriculture",
    "public_sector",
    "consumer_retail",
    "media_elections",
)
LEVELS: Final[tuple[str, ...]] = ("global", "regional", "national", "subnational")
INSTRUMENTS: Final[tuple[str, ...]] = (
    "legislation",
    "standards",
    "export_controls",
    "licensing_registration",
    "audit_assessment",
    "transparency_disclosure",
    "sandbox_testbed",
    "procurement",
    "funding_incentives",
    "international_partnership",
    "voluntary_commitment",
)
STYLES: Final[tuple[str, ...]] = ("prescriptive", "performance_based", "binding", "voluntary")

FACET_KINDS: Final[dict[str, tuple[str, ...]]] = {
    "sector": SECTORS,
    "level": LEVELS,
    "instrument": INSTRUMENTS,
    "style": STYLES,
}
