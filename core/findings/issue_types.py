"""The registry of issue types: each kind of finding is one small unit,
an `IssueType`, registered by one module of core/findings/types/ (in the
style of cleanlab Datalab's issue managers: one class per issue, behind
one facade, found through a factory).

An issue type says what the report and issues.csv need to know about
it: its name (the `issue` column), its title and report section, its
place in report order, the function that detects it, the issues.csv
columns it fills past the common ones, and its own part of the
suggested action. What the report, issues.csv and the suggested actions
do with every type reads this registry; the cross-finding rules that
weigh an image's findings together (a label issue with an outlier or a
conflicting near-duplicate is a removal) stay in
components/quality_report/suggested_actions.py.

Where the detectors live: the registry is in core/, the lowest layer but
models (tests/test_layers.py), so it cannot import the detectors that
need TFX, cleanlab or a trained model; those stay in their components
(components/duplicates, outliers, label_issues), which call them, and a
type names its detector by dotted path (`detector`, for readers and the
tests). A detector that needs nothing but the ETL's images and their
properties (a `RawTable`) can live in the type's own file as `find`:
the Outliers component runs every registered `find` (`find_issues`), so
a new type of that kind is one new file in core/findings/types/, its
import line in core/findings/types/__init__.py (an explicit import, so
the pipeline steps' code fingerprints, core/code_version.py, see the
file), and its test. docs/issue-types.md works an example through.
"""

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from core.findings.finding import Finding

if TYPE_CHECKING:  # reading TFRecords needs TensorFlow; typing does not
    from core.readers.example_tables import RawTable

# The report's sections that list findings (components/quality_report).
LABEL_ISSUES_SECTION = "label-issues"
DUPLICATES_SECTION = "duplicates"
OUTLIERS_SECTION = "outliers"  # "Outliers and broken files"
SECTIONS = (LABEL_ISSUES_SECTION, DUPLICATES_SECTION, OUTLIERS_SECTION)
# The issues.csv columns every finding fills; a type lists in `fills`
# the ones past these it fills.
COMMON_COLUMNS = ("path", "sha256", "split", "issue", "score", "given_label")


@dataclasses.dataclass(frozen=True)
class Suggestion:
    """A suggested action (finding.SUGGESTED_ACTIONS), how sure it is
    (0..1) and, for a relabel, the new label."""

    action: str
    confidence: float
    label: str = ""


@dataclasses.dataclass(frozen=True)
class IssueType:
    """One kind of finding and what the report and issues.csv do with it.

    `own_row` and `whole_image` are the type's own part of the suggested
    action (components/quality_report/suggested_actions.py applies
    them): `own_row` decides the finding's row alone, whatever else its
    image is flagged with (an exact copy is removed); `whole_image`
    decides every finding of its image (an unreadable file is removed,
    whatever else it is flagged with). A type with neither is decided
    with the image's other findings: review, unless label evidence says
    relabel or remove.
    """

    name: str  # the `issue` column
    title: str  # how the report names it
    section: str  # one of SECTIONS
    order: int  # report order, smallest first; unique
    detector: str  # dotted path of the function that finds it
    fills: tuple[str, ...] = ()  # columns past COMMON_COLUMNS, e.g. detail
    has_image: bool = True  # False: the report shows the detail instead
    own_row: Callable[[Finding], Suggestion] | None = None
    whole_image: Callable[[Finding], Suggestion] | None = None
    # A detector that needs only the ETL's images (see the docstring).
    find: Callable[["RawTable"], list[Finding]] | None = None

    def __post_init__(self) -> None:
        if self.section not in SECTIONS:
            raise ValueError(
                f"issue type {self.name}: section {self.section!r} is not"
                f" one of {', '.join(SECTIONS)}"
            )


_REGISTRY: dict[str, IssueType] = {}


def _registry() -> dict[str, IssueType]:
    """The registry, with the built-in types in it."""
    # Imported here, not at the top: those modules import this one.
    import core.findings.types  # noqa: F401

    return _REGISTRY


def register(issue_type: IssueType) -> IssueType:
    """Add `issue_type`; its name and order must be new."""
    registry = _registry()
    if issue_type.name in registry:
        raise ValueError(f"issue type {issue_type.name} is registered twice")
    taken = {t.order: t.name for t in registry.values()}
    if issue_type.order in taken:
        raise ValueError(
            f"issue type {issue_type.name}: order {issue_type.order} is"
            f" {taken[issue_type.order]}'s"
        )
    registry[issue_type.name] = issue_type
    return issue_type


def issue_types() -> list[IssueType]:
    """Every registered type, in report order."""
    return sorted(_registry().values(), key=lambda t: t.order)


def issue_type(name: str) -> IssueType:
    """The registered type `name`; KeyError naming the known ones."""
    try:
        return _registry()[name]
    except KeyError:
        raise KeyError(
            f"unknown issue type {name!r}; registered:"
            f" {', '.join(t.name for t in issue_types())}"
        ) from None


def in_section(section: str) -> tuple[str, ...]:
    """The names of the types listed in report `section`, in order."""
    return tuple(t.name for t in issue_types() if t.section == section)


def title_of(name: str) -> str:
    """How the report names issue `name`."""
    found = _registry().get(name)
    return found.title if found else name.replace("_", " ")


def unregistered(names: Sequence[str]) -> list[str]:
    """Those of `names` no type is registered for, sorted, once each."""
    return sorted(set(names) - set(_registry()))


def find_issues(table: "RawTable") -> list[Finding]:
    """The findings of every registered type with a `find` detector, in
    report order."""
    findings = []
    for t in issue_types():
        if t.find is not None:
            findings += t.find(table)
    return findings
