"""Every image of a run in the trained model's embedding: where it lies
on the 2-D map, its cluster, its loss, its uniqueness and
representativeness; and the insights drawn from them."""

import csv
import dataclasses
import io
import json
import posixpath
from collections import Counter

import numpy as np
import tensorflow as tf
from tfx.dsl.io import fileio

from core.findings.quality_artifacts import INSIGHTS_FILE, POPULATION_FILE
from core.population.density import uniqueness_and_representativeness
from core.population.insights import (
    Cluster,
    cluster_images,
    describe,
    distinct_properties,
    loss_correlations,
    rank_clusters,
)
from core.population.points import ImagePoint, Population
from core.population.projection import map_2d
from core.readers.example_tables import RawTable, split_of
from core.readers.trained_model import embed, predict, read_model_inputs

# A cluster is worth naming when its mean loss is this many times the
# average.
_NOTABLE_LOSS_RATIO = 1.5


def describe_population(
    table: RawTable,
    model: tf.keras.Model,
    transformed_split_dirs: list[str],
    class_names: list[str],
    *,
    clusters: int,
    seed: int,
) -> Population:
    """The population of `table`'s images, predicted and embedded by
    `model` from their transformed images."""
    pixels = read_model_inputs(model, transformed_split_dirs)
    row_of = {path: i for i, path in enumerate(pixels.paths)}
    order = np.array([row_of[path] for path in table.paths], dtype=int)
    images = pixels.images[order]
    probabilities = predict(model, images)
    given = probabilities[np.arange(len(table)), table.labels]
    loss = -np.log(np.maximum(given, 1e-7))
    predicted = probabilities.argmax(axis=1)
    correct = predicted == table.labels
    embeddings = embed(model, images)
    points = map_2d(embeddings, seed)
    assignment = cluster_images(embeddings, clusters, seed)
    uniqueness, representativeness = uniqueness_and_representativeness(
        embeddings
    )
    split = np.array([split_of(path) for path in table.paths])
    properties = distinct_properties(table.properties)
    ranked = rank_clusters(
        assignment,
        loss=loss,
        correct=correct,
        split=split,
        labels=table.label_names,
        properties=properties,
        paths=table.paths,
    )
    return Population(
        points=[
            ImagePoint(
                path=path,
                split=str(split[i]),
                given_label=table.label_names[i],
                predicted_label=class_names[predicted[i]],
                loss=float(loss[i]),
                correct=bool(correct[i]),
                x=float(points[i, 0]),
                y=float(points[i, 1]),
                cluster=int(assignment[i]),
                uniqueness=float(uniqueness[i]),
                representativeness=float(representativeness[i]),
            )
            for i, path in enumerate(table.paths)
        ],
        clusters=ranked,
        correlations=loss_correlations(loss, properties),
        top_insight=_top_insight(ranked, Counter(split.tolist())),
        properties={name: v.tolist() for name, v in properties.items()},
    )


def write_population(population: Population, output_dir: str) -> None:
    """POPULATION_FILE, one row per image with its properties, and
    INSIGHTS_FILE."""
    buffer = io.StringIO()
    columns = [field.name for field in dataclasses.fields(ImagePoint)]
    writer = csv.DictWriter(
        buffer, fieldnames=columns + list(population.properties)
    )
    writer.writeheader()
    for i, point in enumerate(population.points):
        writer.writerow(
            {
                **dataclasses.asdict(point),
                **{n: v[i] for n, v in population.properties.items()},
            }
        )
    with fileio.open(posixpath.join(output_dir, POPULATION_FILE), "w") as f:
        f.write(buffer.getvalue())
    insights = {
        "top_insight": population.top_insight,
        "clusters": [dataclasses.asdict(c) for c in population.clusters],
        "loss_correlations": [
            dataclasses.asdict(c) for c in population.correlations
        ],
    }
    with fileio.open(posixpath.join(output_dir, INSIGHTS_FILE), "w") as f:
        json.dump(insights, f, indent=2)


def _top_insight(clusters: list[Cluster], split_sizes: Counter) -> str:
    worst = clusters[0] if clusters else None
    if worst is None or worst.loss_ratio < _NOTABLE_LOSS_RATIO:
        return ""
    return describe(worst, dict(sorted(split_sizes.items())))
