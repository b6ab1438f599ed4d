"""A run's summary for the terminal, and its figures for DVC."""

import csv
import json
import posixpath
from pathlib import Path
from typing import Any

from tfx.dsl.io import fileio

from core.dataset.staged_output import (
    check_output_folder,
    make_output_folder,
)
from core.findings.quality_artifacts import (
    INSIGHTS_FILE,
    ISSUES_FILE,
    POPULATION_FILE,
    REPORT_FILE,
)
from pipeline.run_results import RunResults

_WORST_SLICES = 3
# The writer named in the marker of a report folder: the pipeline
# publishes there what `dcp report` writes, and each reruns into the
# other's folder (quality.report).
REPORT_KIND = "dcp report"


def format_summary(
    results: RunResults,
    *,
    metrics_file: str,
    report_file: str,
    issues_file: str | None,
) -> str:
    """The run's figures, what it found and where its outputs are; the
    findings' lines only where the run has data-quality analyses."""
    tflite = results.tflite
    headline = results.headline
    lines = [
        f"Eval {headline} {results.accuracy:.3f} on"
        f" {results.eval_examples} images;"
        f" {'blessed' if results.blessed else 'not blessed'}.",
        f"  TFLite int8: {tflite['int8_bytes'] / 1024:.0f} KiB, {headline}"
        f" {tflite[f'int8_{headline}']:.3f} (float32:"
        f" {tflite['float32_bytes'] / 1024:.0f} KiB,"
        f" {tflite[f'float32_{headline}']:.3f})",
        "  per class: "
        + ", ".join(
            f"{name} {accuracy:.2f}"
            for name, accuracy in results.per_class_accuracy.items()
        ),
        "  worst slices: "
        + ", ".join(
            f"{s.feature}={s.value} {s.accuracy:.2f} ({s.examples} images)"
            for s in results.slices[:_WORST_SLICES]
        ),
    ]
    if results.test:
        lines += _test_lines(results.test, headline)
    anomalies = [
        f"  anomaly in {split}: {text}"
        for split, found in results.anomalies.items()
        for text in found
    ]
    lines += anomalies or ["  no anomalies in the data against the schema"]
    if results.findings is not None:
        lines.append(
            "  data quality: "
            + (
                ", ".join(
                    f"{count} {issue.replace('_', ' ')}"
                    for issue, count in sorted(results.findings.items())
                )
                or "nothing flagged"
            )
        )
    insight = _top_insight(results.artifacts.get("report"))
    if insight:
        lines.append(f"  top insight: {insight}")
    lines += _warning_lines(results.warnings)
    lines += [
        f"  run: {results.run_id} (for dcp compare)",
        f"  model: {results.artifacts['model']}",
        f"  evaluation: {results.artifacts['evaluation']}",
        f"  TFLite models: {results.artifacts['tflite']}",
        f"  metrics: {metrics_file}",
        f"  report: {report_file}",
    ]
    if issues_file:
        lines.append(f"  issues to review: {issues_file}")
    return "\n".join(lines)


def _warning_lines(warnings: tuple[str, ...]) -> list[str]:
    """What limited what the run could judge, each once."""
    if not warnings:
        return []
    return ["  warnings:"] + [f"    {w}" for w in dict.fromkeys(warnings)]


def _top_insight(report_uri: str | None) -> str:
    """The report's top insight in words, "" if it has none."""
    path = posixpath.join(report_uri or "", INSIGHTS_FILE)
    if not report_uri or not fileio.exists(path):
        return ""
    with fileio.open(path, "r") as file:
        return json.load(file)["top_insight"]


def _test_lines(test: dict[str, Any], headline: str) -> list[str]:
    keras = test["keras"]
    return [
        f"Test {headline} {keras[headline]:.3f} on {test['examples']}"
        " images (held fixed; the blessing is on eval).",
        f"  test TFLite int8: {headline} {test['int8'][headline]:.3f}",
        "  test per class: "
        + ", ".join(
            f"{name} {value:.2f}"
            for name, value in keras[f"per_class_{headline}"].items()
        ),
        *(_table_lines(keras["table"]) if "table" in keras else ()),
    ]


def _table_lines(table: dict[str, Any]) -> list[str]:
    """A task's table of test figures (title, columns, rows), aligned;
    numbers below 1 as shares to 3 places."""

    def shown(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.3f}"
        return "-" if value is None else str(value)

    cells = [table["columns"], *([shown(v) for v in r] for r in table["rows"])]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return [f"  test per class, {table['title']}:"] + [
        "    "
        + "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]


def write_dvc_files(
    results: RunResults, *, metrics_file: str, plots_dir: str
) -> None:
    """metrics.json for `dvc metrics`, CSVs for `dvc plots`: a confusion
    matrix (one row per eval image, as DVC's confusion template reads it)
    and per-class accuracy."""
    Path(metrics_file).write_text(
        json.dumps(results.metrics(), indent=2) + "\n"
    )
    plots = Path(plots_dir)
    plots.mkdir(parents=True, exist_ok=True)
    with (plots / "confusion_matrix.csv").open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["actual", "predicted"])
        for (actual, predicted), count in sorted(results.confusion.items()):
            writer.writerows([[actual, predicted]] * count)
    with (plots / "per_class_accuracy.csv").open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["class", results.headline])
        writer.writerows(results.per_class_accuracy.items())


_REPORT_OPTION = "quality.report in params.yaml"


def check_report_folder(report_dir: str) -> None:
    """Refuse, before any work, a `report_dir` that publish_report would
    refuse at the end of a run."""
    check_output_folder(report_dir, kind=REPORT_KIND, option=_REPORT_OPTION)


def publish_report(report_uri: str, report_dir: str) -> tuple[str, str | None]:
    """Copy the run's report.html, and issues.csv, the population table
    and insights where the report has them, into `report_dir`, where the
    latest run's are always found; return the paths of report.html and
    issues.csv (None for a report without findings). `report_dir` must
    be new, empty or a report folder (staged_output)."""
    make_output_folder(report_dir, kind=REPORT_KIND, option=_REPORT_OPTION)
    copies = {}
    for name in (REPORT_FILE, ISSUES_FILE, POPULATION_FILE, INSIGHTS_FILE):
        source = posixpath.join(report_uri, name)
        if name != REPORT_FILE and not fileio.exists(source):
            continue
        copies[name] = posixpath.join(report_dir, name)
        fileio.copy(source, copies[name], overwrite=True)
    return copies[REPORT_FILE], copies.get(ISSUES_FILE)
