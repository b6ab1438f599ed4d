"""Gather the analyses' findings and the run's error analysis into
report.html and issues.csv."""

import csv
import dataclasses
import io
import logging
import posixpath
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from tfx.dsl.io import fileio

from components.quality_report.evaluation_results import read_evaluation
from components.quality_report.html_report import render_report
from components.quality_report.population_charts import small_thumbnails
from components.quality_report.report_data import (
    PropertyHistogram,
    ReportData,
    SliceRow,
    TestFigures,
)
from components.quality_report.suggested_actions import (
    LabelEvidence,
    suggest_actions,
)
from components.test_accuracy.accuracy_file import read_accuracy
from core.findings.finding import Finding
from core.findings.issues_csv import (
    read_issues_csv,
    write_issues_csv,
)
from core.findings.quality_artifacts import (
    FINDINGS_FILE,
    ISSUES_FILE,
    NOTES_FILE,
    RANKING_FILE,
    REPORT_FILE,
)
from core.findings.types import BROKEN_FILE
from core.population.analysis import (
    Population,
    describe_population,
    write_population,
)
from core.population.insights import DEFAULT_CLUSTERS
from core.readers.example_tables import RawTable, read_raw, split_of
from core.readers.trained_model import load_keras_model
from core.task import Task

QUARANTINE_FILE = "quarantine.csv"  # written by the ETL beside its splits
_HISTOGRAM_BINS = 20  # per image property, in the report's charts


@dataclasses.dataclass(frozen=True)
class ReportInputs:
    """Where a run's artifacts are."""

    raw_split_dirs: list[str]  # ImportExampleGen's splits
    eval_split_dir: str  # the Transform's eval split
    model_uri: str
    evaluation_uri: str
    findings_dirs: list[str]  # the analyses' outputs, with findings.csv
    etl_dir: str  # the ETL's output, with quarantine.csv
    test_accuracy_uri: str | None = None  # TestAccuracy's, if it ran
    # The Transform's splits, all of them: the population map and its
    # insights cover every image.
    transformed_split_dirs: Sequence[str] = ()


def build_report(
    inputs: ReportInputs,
    output_dir: str,
    task: Task,
    *,
    class_names: list[str],
    budget: int,
    title: str,
) -> ReportData:
    """Write report.html and issues.csv into `output_dir`, with the error
    analysis of `task`."""
    table = read_raw(inputs.raw_split_dirs)
    findings = suggest_actions(
        _with_hashes(
            [
                finding
                for folder in inputs.findings_dirs
                for finding in read_findings(
                    posixpath.join(folder, FINDINGS_FILE)
                )
            ]
            + broken_files(posixpath.join(inputs.etl_dir, QUARANTINE_FILE)),
            table,
        ),
        read_label_evidence(inputs.findings_dirs),
    )
    evaluation = read_evaluation(inputs.evaluation_uri, class_names)
    misclassified = task.error_analysis(
        inputs.model_uri, inputs.eval_split_dir, class_names
    )
    population = (
        describe_population(
            table,
            load_keras_model(inputs.model_uri),
            list(inputs.transformed_split_dirs),
            class_names,
            clusters=DEFAULT_CLUSTERS,
            seed=0,
        )
        if inputs.transformed_split_dirs
        else None
    )
    shown = {f.path for f in findings} | {m.path for m in misclassified}
    if population:
        shown |= {p for c in population.clusters for p in c.examples}
    data = ReportData(
        title=title,
        class_names=class_names,
        findings=findings,
        counts=class_counts(table),
        property_histograms=property_histograms(table),
        budget=budget,
        accuracy=evaluation.accuracy,
        per_class_accuracy=evaluation.per_class_accuracy,
        confusion=evaluation.confusion,
        slices=evaluation.slices,
        misclassified=misclassified,
        test=(
            _test_figures(read_accuracy(inputs.test_accuracy_uri))
            if inputs.test_accuracy_uri
            else None
        ),
        thumbnails={
            path: png
            for path, png in zip(table.paths, table.pngs, strict=True)
            if path in shown
        },
        population=population,
        map_thumbnails=(
            small_thumbnails(table.paths, table.pngs) if population else {}
        ),
        notes=[
            *read_notes(inputs.findings_dirs),
            *_insight_notes(population),
            f"{len(table)} images in {', '.join(sorted(class_counts(table)))};"
            f" {len(findings)} findings: "
            + ", ".join(
                f"{n} {issue}"
                for issue, n in sorted(
                    Counter(f.issue for f in findings).items()
                )
            ),
        ],
    )
    fileio.makedirs(output_dir)
    with fileio.open(posixpath.join(output_dir, REPORT_FILE), "w") as file:
        file.write(render_report(data))
    write_issues_csv(findings, posixpath.join(output_dir, ISSUES_FILE))
    if population:
        write_population(population, output_dir)
    logging.info("Report: %s", posixpath.join(output_dir, REPORT_FILE))
    return data


def _insight_notes(population: Population | None) -> list[str]:
    if not population:
        return []
    notes = [f"Top insight: {population.top_insight}."] * bool(
        population.top_insight
    )
    strongest = population.correlations[:1]
    return notes + [
        f"Loss correlates most with {c.property.replace('_', ' ')}"
        f" (Spearman's rho {c.rho:+.2f}, p = {c.p_value:.1g})."
        for c in strongest
    ]


def _test_figures(accuracy: dict[str, Any]) -> TestFigures:
    """The report's view of what TestAccuracy wrote."""
    keras = accuracy["keras"]
    return TestFigures(
        examples=accuracy["examples"],
        accuracy=keras["accuracy"],
        int8_accuracy=accuracy["int8"]["accuracy"],
        per_class_accuracy=keras["per_class_accuracy"],
        slices=[SliceRow(**row) for row in keras["slices"]],
    )


def read_findings(path: str) -> list[Finding]:
    return [
        Finding(
            path=row["path"],
            sha256=row["sha256"],
            split=row["split"],
            issue=row["issue"],
            score=float(row["score"]),
            given_label=row["given_label"],
            suggested_label=row["suggested_label"],
            duplicate_of=row["duplicate_of"],
            detail=row["detail"],
            suggested_action=row.get("suggested_action") or "",
            confidence=float(row.get("confidence") or 0.0),
        )
        for row in read_issues_csv(path)
    ]


def read_label_evidence(findings_dirs: list[str]) -> dict[str, LabelEvidence]:
    """By image path, the out-of-sample label evidence of the analysis
    among `findings_dirs` that wrote a ranking (none if none did)."""
    evidence = {}
    for folder in findings_dirs:
        path = posixpath.join(folder, RANKING_FILE)
        if not fileio.exists(path):
            continue
        with fileio.open(path, "r") as file:
            for row in csv.DictReader(io.StringIO(file.read())):
                evidence[row["path"]] = LabelEvidence(
                    given_probability=float(row["given_probability"]),
                    suggested_label=row["suggested_label"],
                    suggested_probability=float(row["suggested_probability"]),
                    no_class=row.get("no_class") == "1",
                    agreed_probability=_number(row.get("agreed_probability")),
                    doubted=row.get("doubted") == "1",
                    given_at_most=_number(row.get("given_at_most")),
                )
    return evidence


def _number(text: str | None) -> float | None:
    return float(text) if text else None


def read_notes(findings_dirs: list[str]) -> list[str]:
    """What the analyses left out, in words (NOTES_FILE, a line each)."""
    notes = []
    for folder in findings_dirs:
        path = posixpath.join(folder, NOTES_FILE)
        if fileio.exists(path):
            with fileio.open(path, "r") as file:
                notes += [line for line in file.read().splitlines() if line]
    return notes


def broken_files(quarantine_csv: str) -> list[Finding]:
    """The ETL's quarantined files; none if it wrote no quarantine."""
    if not fileio.exists(quarantine_csv):
        return []
    with fileio.open(quarantine_csv, "r") as file:
        rows = list(csv.DictReader(io.StringIO(file.read())))
    return [
        Finding(
            path=row["path"],
            sha256="",
            split=split_of(row["path"]),
            issue=BROKEN_FILE,
            score=1.0,
            given_label=_label_folder(row["path"]),
            detail=f"{row['reason']}; fix: {row['fix']}",
        )
        for row in rows
    ]


def class_counts(table: RawTable) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for path, label in zip(table.paths, table.label_names, strict=True):
        split = counts.setdefault(split_of(path), {})
        split[label] = split.get(label, 0) + 1
    return counts


def property_histograms(
    table: RawTable, bins: int = _HISTOGRAM_BINS
) -> list[PropertyHistogram]:
    splits = np.array([split_of(path) for path in table.paths])
    histograms = []
    for name, values in table.properties.items():
        edges = np.histogram_bin_edges(values, bins=bins)
        counts = {
            split: np.histogram(values[splits == split], edges)[0].tolist()
            for split in sorted(set(splits))
        }
        histograms.append(PropertyHistogram(name, edges.tolist(), counts))
    return histograms


def _with_hashes(
    findings: Sequence[Finding], table: RawTable
) -> list[Finding]:
    sha256 = dict(zip(table.paths, table.sha256, strict=True))
    return [
        f
        if f.sha256
        else dataclasses.replace(f, sha256=sha256.get(f.path, ""))
        for f in findings
    ]


def _label_folder(path: str) -> str:
    parts = path.split("/")
    return parts[1] if len(parts) > 2 else ""
