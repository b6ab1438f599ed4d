"""What a reviewed issues.csv asks for, checked against the image folder
before any file moves: which files to relabel and which to remove."""

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from components.quality_report.report_data import (
    BLANK,
    BROKEN_FILE,
    EXACT_DUPLICATE,
    LABEL_ISSUE,
    NEAR_DUPLICATE,
)

RELABEL = "relabel"
TRASH = "trash"  # removed files, by version, inside the folder
REMOVE = "remove"
# Rows with an empty action that --accept-suggestions accepts: label
# issues from its minimum score, and the kinds whose fix is certain.
_SURE_ISSUES = (EXACT_DUPLICATE, BROKEN_FILE, BLANK)
_TRAIN = "train"
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


def plan_fixes(
    rows: Sequence[Mapping[str, str]],
    data_dir: Path,
    *,
    accept_suggestions: bool = False,
    min_score: float = 1.0,
    splits: Sequence[str] | None = None,
) -> FixPlan:
    """The steps the rows' `action` column asks for, in row order.

    Actions: accept (the report's suggestion: the suggested label of a
    label issue; for a duplicate, removing the copy, or the train copy
    of a leak so that val and test stay as they are; removing anything
    else), relabel (to the row's suggested_label), remove, keep or empty
    (nothing). With `accept_suggestions`, an empty action counts as
    accept for label issues scoring at least `min_score`, exact
    duplicates, broken files and blank images. Only files in `splits`
    (default: all) change. Raises ValueError listing every row that
    cannot be applied, before anything is changed.
    """
    steps: dict[str, FixStep] = {}  # by path, in row order
    skipped: list[tuple[int, str]] = []
    errors: list[str] = []
    classes = _class_names(data_dir)
    for line, row in enumerate(rows, start=_FIRST_LINE):
        action = row.get("action", "").strip().lower()
        if not action and accept_suggestions and _is_sure(row, min_score):
            action = "accept"
        if action in ("", "keep"):
            continue
        try:
            step = _step(line, row, action, data_dir, classes)
        except ValueError as error:
            errors.append(f"line {line}: {error}")
            continue
        if splits is not None and _split(step.path) not in splits:
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
    return FixPlan(tuple(steps.values()), tuple(sorted(skipped)))


def _is_sure(row: Mapping[str, str], min_score: float) -> bool:
    if row.get("issue") == LABEL_ISSUE:
        return bool(row.get("suggested_label")) and _score(row) >= min_score
    return row.get("issue") in _SURE_ISSUES


def _step(
    line: int,
    row: Mapping[str, str],
    action: str,
    data_dir: Path,
    classes: set[str],
) -> FixStep:
    path = _checked_path(row.get("path", ""), data_dir)
    issue = row.get("issue", "")
    why = f"{issue} (score {row.get('score', '')})"
    if row.get("detail"):
        why += f": {row['detail']}"
    if (action == "accept" and issue == LABEL_ISSUE) or action == RELABEL:
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
    if action == "accept" and issue in (EXACT_DUPLICATE, NEAR_DUPLICATE):
        copy = _copy_to_remove(path, row.get("duplicate_of", ""), data_dir)
        if copy != path:
            why = f"{issue}: the train copy of {path}, so it leaks no more"
        return FixStep(line, REMOVE, copy, "", why)
    if action in ("accept", REMOVE):
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
    """The copy of a duplicate pair to remove: the train copy of a leak,
    so that val and test stay comparable, else the later copy."""
    if not original:
        return path
    original = _checked_path(original, data_dir)
    if _split(original) != _split(path) and _split(original) == _TRAIN:
        return original
    return path


def _class_names(data_dir: Path) -> set[str]:
    return {
        folder.name
        for split in data_dir.iterdir()
        if split.is_dir() and split.name != TRASH
        for folder in split.iterdir()
        if folder.is_dir()
    }


def _split(path: str) -> str:
    return PurePosixPath(path).parts[0]


def _label(path: str) -> str:
    parts = PurePosixPath(path).parts
    return parts[1] if len(parts) > 2 else ""


def _score(row: Mapping[str, str]) -> float:
    try:
        return float(row.get("score", ""))
    except ValueError:
        return 0.0


def _sha256(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()
