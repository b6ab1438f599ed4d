"""Duplicates among an Examples artifact's splits, written as a file."""

import logging
import posixpath

from tfx.dsl.io import fileio

from components.duplicates.finding import (
    duplicate_findings,
    find_duplicates,
    normalised_pixels,
)
from core.findings.finding import Finding
from core.findings.issues_csv import write_issues_csv
from core.findings.quality_artifacts import FINDINGS_FILE
from core.readers.example_tables import read_raw


def find_duplicates_in(
    split_dirs: list[str], output_dir: str, *, max_distance: float
) -> list[Finding]:
    """Flag the later copy of each duplicate pair in the ETL examples of
    `split_dirs` (train before val before test) into
    `output_dir/findings.csv`."""
    table = read_raw(split_dirs)
    pairs = find_duplicates(
        table, normalised_pixels(table.pngs), max_distance=max_distance
    )
    findings = duplicate_findings(table, pairs)
    logging.info(
        "Duplicates: %d exact and %d near among %d images.",
        sum(pair.exact for pair in pairs),
        sum(not pair.exact for pair in pairs),
        len(table),
    )
    fileio.makedirs(output_dir)
    write_issues_csv(findings, posixpath.join(output_dir, FINDINGS_FILE))
    return findings
