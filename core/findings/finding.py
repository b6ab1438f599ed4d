"""The findings contract: a `Finding` (one flagged image), the columns
and actions of issues.csv and the actions the report suggests. The
detectors write findings, the report and `dcp fix` read them. The issue
types an analysis may flag are registered units: issue_types.py and
types/."""

import dataclasses

# issues.csv, one row per flagged image and issue; a reviewer fills
# `action` with accept, relabel, remove or keep.
ISSUE_COLUMNS = (
    "path",
    "sha256",
    "split",
    "issue",
    "score",
    "given_label",
    "suggested_label",
    "duplicate_of",
    "detail",
    "suggested_action",
    "confidence",
    "action",
)
# Columns an issues.csv written before suggested actions lacks.
OPTIONAL_COLUMNS = ("suggested_action", "confidence")
ACTIONS = ("accept", "relabel", "remove", "keep")
# What the report suggests for an image: relabel to suggested_label,
# remove it (it belongs to no class, or is a copy or unreadable), or let
# a person look.
RELABEL = "relabel"
REMOVE = "remove"
REVIEW = "review"
SUGGESTED_ACTIONS = (RELABEL, REMOVE, REVIEW)


@dataclasses.dataclass(frozen=True)
class Finding:
    """One flagged image. `path` is relative to the dataset root, as in
    the ETL manifest; `score` is higher for more certain issues (0..1
    where the analysis has a natural scale); `detail` says why in words,
    e.g. "same bytes as train/7/0012.png (labels differ: 1 vs 7)"."""

    path: str
    sha256: str
    split: str  # ETL split folder: train, val or test
    issue: str  # a registered issue type's name (issue_types.py)
    score: float
    given_label: str
    suggested_label: str = ""  # empty where the analysis has none
    duplicate_of: str = ""  # the image a duplicate copies
    detail: str = ""
    suggested_action: str = ""  # one of SUGGESTED_ACTIONS, or "" if none
    # How sure the suggestion is, 0..1: the estimated chance that it is
    # right (suggested_actions.py says how each kind is estimated).
    confidence: float = 0.0
