"""What a reviewed issues.csv asks for, checked against the image folder
before any file moves: which files to relabel and which to remove."""

import dataclasses
import hashlib
import math
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from core.dataset.etl.dataset_layout import FIX_TRASH
from core.findings.finding import RELABEL, REMOVE
from core.findings.types import EXACT_DUPLICATE, LABEL_ISSUE, NEAR_DUPLICATE

_TRAIN = "train"
# The split that measures the loop: no suggestion is applied to it.
_TEST = "test"
# The first data row of a CSV is its line 2, as a spreadsheet numbers it.
_FIRST_LINE = 2


@dataclasses.dataclass(frozen=True)
class FixStep:
    line: int  # of issues.csv
    action: str  # RELABEL or REMOVE
    path: str  # relative to the folder
    label: str  # the new label of a RELABEL
    reason: str


@dataclasses.dataclass(frozen=True)
class FixPlan:
    steps: tuple[FixStep, ...]
    skipped: tuple[tuple[int, str], ...]  # (line, why) of rows asking more
    # (line, why) of images whose suggestion was not applied, one each:
    # they are left to a person.
    left_for_review: tuple[tuple[int, str], ...] = ()


def plan_fixes(
    rows: Sequence[Mapping[str, str]],
    data_dir: Path,
    *,
    accept_suggestions: bool = False,
    min_confidence: float = 1.0,
    splits: Sequence[str] | None = None,
) -> FixPlan:
    """The steps the rows' `action` column asks for, in row order.

    Actions: accept (the report's suggested_action: relabel to the
    suggested label, or remove; a removed duplicate is the copy, or the
    train copy of a leak so that val and test stay as they are; rows
    without a suggested_action relabel a label issue and remove anything
    else), relabel (to the row's suggested_label), remove, keep or empty
    (nothing). With `accept_suggestions`, an empty action counts as
    accept where the suggestion is a relabel or a remove with at least
    `min_confidence`, outside the test split; every other suggestion is
    left for review. Only files in `splits` (default: all but test)
    change: test changes only by a row's own action, with `splits`
    naming it, so that it measures every data version alike.
    Raises ValueError listing every row that cannot be applied, before
    anything is changed.
    """
    _check_splits(splits, data_dir)
    steps: dict[str, FixStep] = {}  # by path, in row order
    skipped: list[tuple[int, str]] = []
    left: dict[str, tuple[int, str]] = {}  # by path: left for review
    errors: list[str] = []
    classes = set(class_folders(data_dir))
    for line, row in enumerate(rows, start=_FIRST_LINE):
        action = row.get("action", "").strip().lower()
        if not action and accept_suggestions:
            why_not = _why_not_accepted(row, min_confidence)
            if why_not:
                left.setdefault(row.get("path", ""), (line, why_not))
            else:
                action = "accept"
        if action in ("", "keep"):
            continue
        try:
            step = _step(line, row, action, data_dir, classes)
        except ValueError as error:
            errors.append(f"line {line}: {error}")
            continue
        own_action = row.get("action", "").strip() != ""
        if _split(step.path) == _TEST and not own_action:
            left.setdefault(
                step.path,
                (line, f"{step.path}: test is never changed automatically"),
            )
            continue
        if _split(step.path) == _TEST and _TEST not in (splits or ()):
            skipped.append(
                (line, f"{step.path}: test changes only if --splits names it")
            )
        elif splits is not None and _split(step.path) not in splits:
            skipped.append(
                (line, f"{step.path}: split {_split(step.path)} is held fixed")
            )
        elif step.path not in steps:
            steps[step.path] = step
        elif step.action == REMOVE and steps[step.path].action == RELABEL:
            # A file to remove (a blank, a leak) needs no new label.
            earlier = steps.pop(step.path)
            steps[step.path] = step
            skipped.append(
                (earlier.line, f"{step.path}: removed by line {line}")
            )
        else:
            skipped.append((line, f"{step.path}: changed by an earlier row"))
    if errors:
        raise ValueError(
            "cannot apply these rows; nothing was changed:\n  "
            + "\n  ".join(errors)
        )
    # An image accepted through another of its rows is not left over.
    left_for_review = sorted(
        entry for path, entry in left.items() if path not in steps
    )
    return FixPlan(
        tuple(steps.values()), tuple(sorted(skipped)), tuple(left_for_review)
    )


def _why_not_accepted(row: Mapping[str, str], min_confidence: float) -> str:
    """Why --accept-suggestions leaves this row to a person; "" if it
    accepts it."""
    path, suggestion = row.get("path", ""), row.get("suggested_action", "")
    if suggestion not in (RELABEL, REMOVE):
        return f"{path}: suggested {suggestion or 'nothing'}"
    confidence = _number(row.get("confidence", ""))
    if confidence < min_confidence:
        return (
            f"{path}: {suggestion} at confidence {row['confidence']},"
            f" below {min_confidence}"
        )
    return ""


def _step(
    line: int,
    row: Mapping[str, str],
    action: str,
    data_dir: Path,
    classes: set[str],
) -> FixStep:
    path = _checked_path(row.get("path", ""), data_dir)
    issue = row.get("issue", "")
    accepted = False
    why = f"{issue} (score {row.get('score', '')})"
    if row.get("detail"):
        why += f": {row['detail']}"
    if action == "accept":
        # The report's suggestion; a row written before suggestions
        # relabels a label issue and removes anything else.
        action = row.get("suggested_action") or (
            RELABEL if issue == LABEL_ISSUE else REMOVE
        )
        if action not in (RELABEL, REMOVE):
            raise ValueError(
                f"{path}: the report suggests {action}, which accept cannot"
                " apply; write relabel, remove or keep"
            )
        accepted = True
    if action == RELABEL:
        label = row.get("suggested_label", "").strip()
        if label not in classes:
            raise ValueError(
                f"{path}: relabel to {label!r}, which is not a class of"
                f" {data_dir} ({', '.join(sorted(classes))}); put the new"
                " label in suggested_label"
            )
        if label == _label(path):
            raise ValueError(f"{path} is already labelled {label!r}")
        _check_unchanged(path, row.get("sha256", ""), data_dir)
        return FixStep(line, RELABEL, path, label, why)
    if (
        action == REMOVE
        and accepted
        and issue
        in (
            EXACT_DUPLICATE,
            NEAR_DUPLICATE,
        )
    ):
        copy = _copy_to_remove(path, row.get("duplicate_of", ""), data_dir)
        if copy != path:
            why = f"{issue}: the train copy of {path}, so it leaks no more"
        return FixStep(line, REMOVE, copy, "", why)
    if action == REMOVE:
        _check_unchanged(path, row.get("sha256", ""), data_dir)
        return FixStep(line, REMOVE, path, "", why)
    raise ValueError(
        f"action {action!r} for {path}: use accept, relabel, remove or keep"
    )


def _checked_path(path: str, data_dir: Path) -> str:
    """`path` if it names a file inside the folder; ValueError if not."""
    relative = PurePosixPath(path)
    inside = (data_dir / relative).resolve()
    if (
        not path
        or relative.is_absolute()
        or not inside.is_relative_to(data_dir.resolve())
        or inside == data_dir.resolve()
    ):
        raise ValueError(
            f"path {path!r} points outside the dataset {data_dir}; paths"
            " are relative to the dataset folder, as the report writes them"
        )
    if not inside.is_file():
        raise ValueError(
            f"{path}: no such file in {data_dir}; the data changed since"
            " the report: run the pipeline again for a fresh issues.csv"
        )
    return relative.as_posix()


def _check_unchanged(path: str, sha256: str, data_dir: Path) -> None:
    if sha256 and _sha256(data_dir / path) != sha256:
        raise ValueError(
            f"{path} changed since the report (its sha256 differs): run"
            " the pipeline again for a fresh issues.csv"
        )


def _copy_to_remove(path: str, original: str, data_dir: Path) -> str:
    """The copy of a duplicate pair to remove: of a leak, the train copy,
    and never the test copy (a val↔test leak loses its val copy), so
    that val and test stay comparable; else the later copy (`path`)."""
    if not original:
        return path
    original = _checked_path(original, data_dir)
    if _split(path) == _TEST or (
        _split(original) == _TRAIN and _split(path) != _TRAIN
    ):
        return original
    return path


def _check_splits(splits: Sequence[str] | None, data_dir: Path) -> None:
    """ValueError if `splits` names a split `data_dir` does not have: a
    misspelt test would leave test unnamed."""
    present = {
        split.name
        for split in data_dir.iterdir()
        if split.is_dir() and split.name != FIX_TRASH
    }
    unknown = sorted(set(splits or ()) - present)
    if unknown:
        raise ValueError(
            f"--splits names {', '.join(unknown)}, not a split of"
            f" {data_dir} ({', '.join(sorted(present))})"
        )


def class_folders(data_dir: Path) -> list[str]:
    """The class folders of `data_dir`'s splits, the trash of removed
    files left out: what a file may be relabelled to."""
    return sorted(
        {
            folder.name
            for split in data_dir.iterdir()
            if split.is_dir() and split.name != FIX_TRASH
            for folder in split.iterdir()
            if folder.is_dir()
        }
    )


def _split(path: str) -> str:
    return PurePosixPath(path).parts[0]


def _label(path: str) -> str:
    parts = PurePosixPath(path).parts
    return parts[1] if len(parts) > 2 else ""


def _number(text: str) -> float:
    """`text` as a number; 0.0 if it is none, or nan or inf, which would
    pass any --min-confidence."""
    try:
        number = float(text)
    except ValueError:
        return 0.0
    return number if math.isfinite(number) else 0.0


def _sha256(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()
