"""The issue types of one image property each, found by one detector
(components/outliers/finding.py, property_findings: Tukey's far-out
fences over the ETL's properties), each a registered unit: blank, dark,
light, blurry, odd size, and grayscale among colour images. A blank
image shows nothing, so teaches nothing: a certain removal of the image;
the others are for review."""

from core.findings.issue_types import (
    OUTLIERS_SECTION,
    IssueType,
    register,
)
from core.findings.types.broken_file import remove_the_image

BLANK = "blank"
DARK = "dark"
LIGHT = "light"
BLURRY = "blurry"
ODD_SIZE = "odd_size"
GRAYSCALE = "grayscale"

_DETECTOR = "components.outliers.finding.property_findings"

register(
    IssueType(
        name=BLANK,
        title="blank",
        section=OUTLIERS_SECTION,
        order=50,
        detector=_DETECTOR,
        fills=("detail",),
        whole_image=remove_the_image,
    )
)
for order, name in enumerate((DARK, LIGHT, BLURRY, ODD_SIZE, GRAYSCALE)):
    register(
        IssueType(
            name=name,
            title=name.replace("_", " "),
            section=OUTLIERS_SECTION,
            order=60 + 10 * order,
            detector=_DETECTOR,
            fills=("detail",),
        )
    )
