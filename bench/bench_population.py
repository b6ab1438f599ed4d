"""Time the report's population analysis (map, clusters, density,
insights) on a finished run, and print the insights it finds
(`make bench-population`); results go in bench/RESULTS.md.

It needs a project folder with a finished run: by default the dcai-roman
project that `make bench-loop` leaves in its work folder. Nothing in it
is changed. population.csv, insights.json, the run's report.html rebuilt
with them (timed too), and population.png, a headless-Chromium
screenshot of the report's map and insights, go to --output.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from tfx import v1 as tfx

from components.quality_report.analysis import ReportInputs, build_report
from core.dataset.etl.etl import read_classes
from core.population.analysis import (
    describe_population,
    write_population,
)
from core.population.density import uniqueness_and_representativeness
from core.population.insights import (
    DEFAULT_CLUSTERS,
    cluster_images,
    distinct_properties,
    loss_correlations,
    rank_clusters,
)
from core.population.projection import map_2d
from core.readers.example_tables import read_raw, split_of
from core.readers.trained_model import (
    embed,
    load_keras_model,
    predict,
    read_model_inputs,
)
from pipeline.run_results import latest_outputs


def split_dirs(project: Path, uri: str) -> list[str]:
    return sorted(str(d) for d in (project / uri).glob("Split-*"))


def rebuild_report(
    project: Path,
    outputs: dict,
    etl_dir: Path,
    output: Path,
    name: str,
) -> None:
    """The run's report.html, rebuilt from its artifacts into `output`."""

    def uri(component: str, key: str) -> str:
        return str(project / outputs[(component, key)].uri)

    test = ("TestAccuracy", "test_accuracy")
    build_report(
        ReportInputs(
            raw_split_dirs=split_dirs(
                project, uri("ImportExampleGen", "examples")
            ),
            eval_split_dir=uri("Transform", "transformed_examples")
            + "/Split-eval",
            model_uri=uri("Trainer", "model"),
            evaluation_uri=uri("Evaluator", "evaluation"),
            findings_dirs=[
                uri("LabelIssues", "label_issues"),
                uri("Duplicates", "duplicates"),
                uri("Outliers", "outliers"),
            ],
            etl_dir=str(etl_dir),
            test_accuracy_uri=uri(*test) if test in outputs else None,
            transformed_split_dirs=split_dirs(
                project, uri("Transform", "transformed_examples")
            ),
        ),
        str(output),
        class_names=read_classes(str(etl_dir)),
        budget=10_000,
        title=f"{name}: the population of the run's images",
    )


def screenshot_population(report: Path, png: Path) -> None:
    """Headless Chromium's picture of the report's population section
    alone (a copy of the page hides the other sections)."""
    copy = report.with_name("population-only.html")
    copy.write_text(
        report.read_text().replace(
            "</head>",
            "<style>section:not(#population) {display: none}</style></head>",
            1,
        )
    )
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("chromium is not installed (make browser): no screenshot")
        return
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=30000",
                "--window-size=1280,1800",
                f"--screenshot={png}",
                copy.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--project",
        type=Path,
        default=Path(tempfile.gettempdir()) / "dcp-bench-loop" / "dcai",
    )
    parser.add_argument(
        "--name", default="dcai-roman", help="the pipeline name"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(tempfile.gettempdir()) / "dcp-bench-population",
    )
    parser.add_argument(
        "--etl-dir",
        type=Path,
        default=Path("data/external/dcai-roman/tfrecords"),
        help="the run's ETL output, relative to --project",
    )
    args = parser.parse_args()
    project = args.project.resolve()
    args.output = args.output.resolve()
    run_id = json.loads((project / "metrics.json").read_text())["run_id"]
    outputs = latest_outputs(
        tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(project / "outputs" / "metadata.sqlite")
        ),
        args.name,
        run_id,
    )
    raw = split_dirs(project, outputs[("ImportExampleGen", "examples")].uri)
    transformed = split_dirs(
        project, outputs[("Transform", "transformed_examples")].uri
    )
    model_uri = str(project / outputs[("Trainer", "model")].uri)
    table = read_raw(raw)
    model = load_keras_model(model_uri)
    names = dict(zip(table.labels.tolist(), table.label_names, strict=True))
    class_names = [names[index] for index in sorted(names)]

    seconds = {}

    def timed(name, work):
        started = time.perf_counter()
        result = work()
        seconds[name] = round(time.perf_counter() - started, 1)
        return result

    pixels = timed(
        "read transformed images",
        lambda: read_model_inputs(model, transformed),
    )
    row_of = {path: i for i, path in enumerate(pixels.paths)}
    images = pixels.images[[row_of[p] for p in table.paths]]
    probabilities = timed("predict", lambda: predict(model, images))
    embeddings = timed("embed", lambda: embed(model, images))
    timed("t-SNE map", lambda: map_2d(embeddings, 0))
    assignment = timed(
        "k-means", lambda: cluster_images(embeddings, DEFAULT_CLUSTERS, 0)
    )
    timed(
        "uniqueness and representativeness",
        lambda: uniqueness_and_representativeness(embeddings),
    )
    properties = distinct_properties(table.properties)
    given = probabilities[np.arange(len(table)), table.labels]
    loss = -np.log(np.maximum(given, 1e-7))
    timed(
        "clusters ranked, properties against loss",
        lambda: (
            rank_clusters(
                assignment,
                loss=loss,
                correct=probabilities.argmax(axis=1) == table.labels,
                split=np.array([split_of(p) for p in table.paths]),
                labels=table.label_names,
                properties=properties,
                paths=table.paths,
            ),
            loss_correlations(loss, properties),
        ),
    )
    population = timed(
        "describe_population, all of it",
        lambda: describe_population(
            table,
            model,
            transformed,
            class_names,
            clusters=DEFAULT_CLUSTERS,
            seed=0,
        ),
    )
    args.output.mkdir(parents=True, exist_ok=True)
    write_population(population, str(args.output))
    timed(
        "report.html with the map, all of it",
        lambda: rebuild_report(
            project, outputs, project / args.etl_dir, args.output, args.name
        ),
    )
    screenshot_population(
        args.output / "report.html", args.output / "population.png"
    )
    print(
        json.dumps(
            {
                "machine": f"{platform.node()}, {os.cpu_count()} cores",
                "project": str(project),
                "run": run_id,
                "images": len(table),
                "seconds": seconds,
                "top_insight": population.top_insight,
                "clusters": [
                    {
                        "cluster": c.cluster,
                        "sizes": c.sizes,
                        "labels": c.labels,
                        "loss_ratio": round(c.loss_ratio, 2),
                        "error_rate": round(c.error_rate, 3),
                        "effects": [(n, round(d, 2)) for n, d in c.effects],
                        "under_represented": c.under_represented,
                    }
                    for c in population.clusters
                ],
                "loss_correlations": [
                    (c.property, round(c.rho, 3), float(f"{c.p_value:.2g}"))
                    for c in population.correlations
                ],
                "output": str(args.output),
                "report_bytes": (args.output / "report.html").stat().st_size,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
