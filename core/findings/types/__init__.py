"""The built-in issue types, one registered unit per module (see
core/findings/issue_types.py), and their names as constants.

Importing this package registers them all. A new type is a new module
here and its import line below, in report order; tests/test_issue_types.py
fails on a module of this folder that is not imported here, since the
pipeline's code fingerprints (core/code_version.py) follow imports.
"""

from core.findings.issue_types import issue_types
from core.findings.types.broken_file import BROKEN_FILE
from core.findings.types.exact_duplicate import EXACT_DUPLICATE
from core.findings.types.image_properties import (
    BLANK,
    BLURRY,
    DARK,
    GRAYSCALE,
    LIGHT,
    ODD_SIZE,
)
from core.findings.types.label_issue import LABEL_ISSUE
from core.findings.types.near_duplicate import NEAR_DUPLICATE
from core.findings.types.outlier import OUTLIER

# The built-in kinds of issue, in report order; the registry
# (issue_types()) also holds any registered since.
ISSUE_TYPES = tuple(t.name for t in issue_types())

__all__ = [
    "BLANK",
    "BLURRY",
    "BROKEN_FILE",
    "DARK",
    "EXACT_DUPLICATE",
    "GRAYSCALE",
    "ISSUE_TYPES",
    "LABEL_ISSUE",
    "LIGHT",
    "NEAR_DUPLICATE",
    "ODD_SIZE",
    "OUTLIER",
]
