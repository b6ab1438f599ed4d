"""Outliers among an Examples artifact's splits, written as a file."""

import logging
import posixpath

import numpy as np
from tfx.dsl.io import fileio

from components.outliers.finding import embedding_findings, property_findings
from core.findings.finding import Finding
from core.findings.issue_types import find_issues
from core.findings.issues_csv import write_issues_csv
from core.findings.quality_artifacts import FINDINGS_FILE
from core.readers.example_tables import read_raw
from core.readers.trained_model import (
    embed,
    load_keras_model,
    read_model_inputs,
)


def find_outliers_in(
    raw_split_dirs: list[str],
    transformed_split_dirs: list[str],
    model_uri: str,
    output_dir: str,
    *,
    fence: float,
) -> list[Finding]:
    """Flag unusual images of the ETL examples in `raw_split_dirs`, by
    their properties and by the embeddings the trained model at
    `model_uri` gives their transformed images, into
    `output_dir/findings.csv`."""
    table = read_raw(raw_split_dirs)
    model = load_keras_model(model_uri)
    pixels = read_model_inputs(model, transformed_split_dirs)
    row_of = {path: i for i, path in enumerate(pixels.paths)}
    missing = [path for path in table.paths if path not in row_of]
    if missing:
        raise ValueError(
            f"{len(missing)} images, e.g. {missing[0]}, are in the examples"
            " but not in the transformed examples: give the Outliers"
            " component the same run's ImportExampleGen and Transform."
        )
    order = np.array([row_of[path] for path in table.paths])
    embeddings = embed(model, pixels.images[order])
    findings = property_findings(table, fence=fence)
    # The registered issue types that need only the images' table.
    findings += find_issues(table)
    findings += embedding_findings(table, embeddings, fence=fence)
    logging.info(
        "Outliers: %d findings among %d images.", len(findings), len(table)
    )
    fileio.makedirs(output_dir)
    write_issues_csv(findings, posixpath.join(output_dir, FINDINGS_FILE))
    return findings
