"""Time the report's population analysis (map, clusters, density,
insights) on a finished run, and print the insights it finds
(`make bench-population`); results go in bench/RESULTS.md.

It needs a project folder with a finished run: by default the dcai-roman
project that `make bench-loop` leaves in its work folder. Nothing in it
is changed; population.csv and insights.json go to --output.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from tfx import v1 as tfx

from components.example_tables import read_raw, split_of
from components.population.analysis import (
    describe_population,
    write_population,
)
from components.population.density import uniqueness_and_representativeness
from components.population.insights import (
    DEFAULT_CLUSTERS,
    cluster_images,
    distinct_properties,
    loss_correlations,
    rank_clusters,
)
from components.population.projection import map_2d
from components.trained_model import (
    embed,
    load_keras_model,
    predict,
    read_model_inputs,
)
from pipeline.run_results import latest_outputs


def split_dirs(project: Path, uri: str) -> list[str]:
    return sorted(str(d) for d in (project / uri).glob("Split-*"))


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
    args = parser.parse_args()
    project = args.project.resolve()
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
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
