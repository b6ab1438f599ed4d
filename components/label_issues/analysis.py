"""Label issues of an Examples artifact's splits, written as files."""

import csv
import io
import logging
import posixpath
import time

from tfx.dsl.io import fileio

from components.example_tables import read_pixels, split_of
from components.label_issues.out_of_sample import (
    METHODS,
    PIXEL_PROBE,
    cross_train_probabilities,
    pixel_probe_probabilities,
)
from components.label_issues.ranking import RankedLabel, rank_labels
from components.quality_artifacts import FINDINGS_FILE, RANKING_FILE
from components.quality_report.issues_csv import write_issues_csv
from components.quality_report.report_data import LABEL_ISSUE, Finding
from models.registry import get_model_spec

RANKING_COLUMNS = ("path", "split", "given_label", "suggested_label", "score")


def find_label_issues(
    split_dirs: list[str],
    output_dir: str,
    *,
    class_names: list[str],
    method: str,
    model: str,
    folds: int,
    epochs: int | None,
) -> list[RankedLabel]:
    """Rank every image of the transformed `split_dirs` and write the
    ranking and cleanlab's flagged images into `output_dir`.

    Args:
      split_dirs: folders of the Transform's transformed examples.
      output_dir: gets RANKING_FILE and FINDINGS_FILE.
      class_names: the label of each class index.
      method: "pixel_probe" or "cross_train" (see out_of_sample).
      model: the fixed model's registry name; its input size is what the
        Transform wrote, and cross_train trains it.
      folds: K of the K-fold split.
      epochs: per fold for cross_train; None for the model's own.
    """
    if method not in METHODS:
        raise ValueError(
            f"label_issues.method is {method!r}; choose one of"
            f" {', '.join(METHODS)}."
        )
    spec = get_model_spec(model)
    table = read_pixels(
        split_dirs, (spec.image_size, spec.image_size, spec.channels)
    )
    started = time.monotonic()
    if method == PIXEL_PROBE:
        probabilities = pixel_probe_probabilities(
            table.images,
            table.labels,
            num_classes=len(class_names),
            folds=folds,
            seed=spec.seed,
        )
    else:
        probabilities = cross_train_probabilities(
            table.images,
            table.labels,
            spec=spec,
            num_classes=len(class_names),
            folds=folds,
            epochs=epochs or spec.epochs,
        )
    ranked = rank_labels(table.paths, table.labels, probabilities)
    logging.info(
        "Label issues: %s over %d images in %.0f s; %d flagged.",
        method,
        len(ranked),
        time.monotonic() - started,
        sum(r.flagged for r in ranked),
    )
    fileio.makedirs(output_dir)
    _write_ranking(
        ranked, class_names, posixpath.join(output_dir, RANKING_FILE)
    )
    write_issues_csv(
        [
            Finding(
                path=r.path,
                sha256="",
                split=split_of(r.path),
                issue=LABEL_ISSUE,
                score=r.score,
                given_label=class_names[r.given],
                suggested_label=class_names[r.suggested],
                detail=f"{method}: out-of-sample prediction"
                f" {class_names[r.suggested]}",
            )
            for r in ranked
            if r.flagged
        ],
        posixpath.join(output_dir, FINDINGS_FILE),
    )
    return ranked


def _write_ranking(
    ranked: list[RankedLabel], class_names: list[str], path: str
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(RANKING_COLUMNS)
    for r in ranked:
        writer.writerow(
            [
                r.path,
                split_of(r.path),
                class_names[r.given],
                class_names[r.suggested],
                f"{r.score:.6f}",
            ]
        )
    with fileio.open(path, "w") as file:
        file.write(buffer.getvalue())
