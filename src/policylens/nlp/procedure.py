"""The codebook's procedure (v2.0, section 3): a sentence's label from scope, role and content.

1. ``other`` -> ``neutral``.
2. ``architecture`` -> by its own content (rules A1-A7): the content model.
3. ``provision``:

   * in a ``horizontal`` document -> ``centralized``, except when it hands a sector
     or use to an existing sector regulator, or carves it out for its own rules ->
     ``sector_specific``;
   * in a ``targeted`` document -> ``sector_specific``;
   * in a ``none`` document -> by its own content (rules A1-A7): the content model.

Nothing is decided early. The three parts come as probabilities and the label's
probabilities are the procedure's outcome averaged over them::

    P(label) = P(other) * [neutral]
             + P(architecture) * content
             + P(provision) * ( P(horizontal) * [centralized, or sector_specific if a hand-off]
                              + P(targeted)   * [sector_specific]
                              + P(none)       * content )

The hand-off exception of step 3 is the content model's own verdict on the
sentence: the share of its approach mass that goes to ``sector_specific``
(``handoff``), so "providers shall label content" stays ``centralized`` and
"insurers remain supervised by the financial supervisor under sector law"
moves to ``sector_specific``.
"""

from __future__ import annotations

from collections.abc import Mapping

from policylens.labels import LABELS, ROLES, SCOPES

Probs = Mapping[str, float]

#: Content evidence for a hand-off must outweigh the central reading by this factor before a
#: provision of a horizontal document leaves ``centralized`` (most provisions carry no such cue).
HANDOFF_SHARPNESS = 2.0


def handoff(content: Probs) -> float:
    """P(a provision of a horizontal document hands its matter to sector rules), from its content."""
    s = float(content["sector_specific"]) ** HANDOFF_SHARPNESS
    c = float(content["centralized"]) ** HANDOFF_SHARPNESS
    total = s + c + float(content["neutral"]) ** HANDOFF_SHARPNESS
    return s / total if total > 0 else 0.0


def provision_label(scope: str, content: Probs) -> dict[str, float]:
    """Step 3 for one known scope: the label distribution of a provision."""
    if scope == "horizontal":
        q = handoff(content)
        return {"centralized": 1.0 - q, "sector_specific": q, "neutral": 0.0}
    if scope == "targeted":
        return {"centralized": 0.0, "sector_specific": 1.0, "neutral": 0.0}
    if scope == "none":
        return {label: float(content[label]) for label in LABELS}
    raise ValueError(f"unknown scope {scope!r}")


def label_given(role: str, scope: str, content: Probs) -> dict[str, float]:
    """The procedure with a known role and scope (what an annotator does)."""
    if role == "other":
        return {"centralized": 0.0, "sector_specific": 0.0, "neutral": 1.0}
    if role == "architecture":
        return {label: float(content[label]) for label in LABELS}
    if role == "provision":
        return provision_label(scope, content)
    raise ValueError(f"unknown role {role!r}")


def compose(role: Probs, scope: Probs, content: Probs) -> dict[str, float]:
    """The label's probabilities: the procedure averaged over uncertain role and scope."""
    out: dict[str, float] = dict.fromkeys(LABELS, 0.0)
    for r in ROLES:
        p_role = float(role.get(r, 0.0))
        if p_role <= 0.0:
            continue
        scopes = SCOPES if r == "provision" else SCOPES[:1]  # only provisions depend on the scope
        for s in scopes:
            p = p_role * (float(scope.get(s, 0.0)) if r == "provision" else 1.0)
            if p <= 0.0:
                continue
            for label, value in label_given(r, s, content).items():
                out[label] += p * value
    total = sum(out.values())
    return {label: value / total for label, value in out.items()} if total > 0 else dict(content)
