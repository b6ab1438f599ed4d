"""issues.csv: one row per flagged image and issue, for a reviewer to
fill the `action` column. Read and written through TFX's fileio, so the
file may live on gs:// as well as on disk."""

import csv
import io
from collections.abc import Sequence

from tfx.dsl.io import fileio

from core.findings.finding import (
    ISSUE_COLUMNS,
    OPTIONAL_COLUMNS,
    Finding,
)
from core.findings.issue_types import issue_types, unregistered


def write_issues_csv(findings: Sequence[Finding], path: str) -> None:
    """Findings by issue type in report order, most certain first, with
    `action` left empty."""
    unknown = unregistered([f.issue for f in findings])
    if unknown:
        raise ValueError(
            f"unknown issue types: {', '.join(unknown)}; an issue type is"
            " registered by a module of core/findings/types/"
            " (docs/issue-types.md)"
        )
    rank = {t.name: i for i, t in enumerate(issue_types())}
    ordered = sorted(findings, key=lambda f: (rank[f.issue], -f.score, f.path))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, ISSUE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(_row(f) for f in ordered)
    with fileio.open(path, "w") as f:
        f.write(buffer.getvalue())


def read_issues_csv(path: str) -> list[dict[str, str]]:
    """The rows of an issues.csv, keyed by column name. Columns a
    reviewer added are kept. UTF-8, with or without the BOM that
    spreadsheets write; ValueError naming the line of a bad row."""
    reader = csv.DictReader(io.StringIO(_utf8_text(path)), restval="")
    try:
        return _rows(path, reader)
    except csv.Error as error:  # e.g. a NUL byte, an endless field
        # line_num counts the lines read before the bad one.
        raise ValueError(
            f"{path} line {reader.line_num + 1}: {error}; save it as CSV again"
        ) from None


def _rows(path: str, reader: csv.DictReader) -> list[dict[str, str]]:
    missing = [
        c
        for c in ISSUE_COLUMNS
        if c not in (reader.fieldnames or ()) and c not in OPTIONAL_COLUMNS
    ]
    if missing:
        raise ValueError(
            f"{path} is not an issues.csv: missing columns "
            f"{', '.join(missing)}"
        )
    # Values past the last named column land under the key None; drop them.
    return [
        {key: value for key, value in row.items() if key is not None}
        for row in reader
    ]


def _utf8_text(path: str) -> str:
    with fileio.open(path, "rb") as f:
        data = f.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ValueError(
            f"{path} line {line}: not UTF-8 text (byte {error.start}); save"
            ' it as UTF-8 ("CSV UTF-8" in a spreadsheet)'
        ) from None


def _row(finding: Finding) -> dict[str, str]:
    return {
        "path": finding.path,
        "sha256": finding.sha256,
        "split": finding.split,
        "issue": finding.issue,
        "score": f"{finding.score:.4f}",
        "given_label": finding.given_label,
        "suggested_label": finding.suggested_label,
        "duplicate_of": finding.duplicate_of,
        "detail": finding.detail,
        "suggested_action": finding.suggested_action,
        "confidence": (
            f"{finding.confidence:.3f}" if finding.suggested_action else ""
        ),
        "action": "",  # for the reviewer
    }
