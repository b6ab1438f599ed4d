"""Label issues of an Examples artifact's splits, written as files."""

import csv
import io
import logging
import posixpath
import time
from collections.abc import Sequence

import numpy as np
from tfx.dsl.io import fileio

from core.findings.finding import Finding
from core.findings.issues_csv import write_issues_csv
from core.findings.quality_artifacts import (
    FINDINGS_FILE,
    NOTES_FILE,
    RANKING_FILE,
)
from core.findings.types import LABEL_ISSUE
from core.readers.example_tables import (
    read_pixels,
    read_raw,
    sorted_by_path,
    split_of,
)
from models.registry import get_model_spec
from tasks.classification.label_issues.folds import plan_folds
from tasks.classification.label_issues.ink_images import ink_crops
from tasks.classification.label_issues.out_of_sample import (
    AUDITOR,
    AUDITOR_IMAGE_SIZE,
    METHODS,
    out_of_sample,
)
from tasks.classification.label_issues.ranking import RankedLabel, rank_labels

RANKING_COLUMNS = (
    "path",
    "split",
    "given_label",
    "suggested_label",
    "score",
    "given_probability",
    "suggested_probability",
    "no_class",
    "agreed_probability",
    "doubted",
    "given_at_most",
)


def find_label_issues(
    raw_split_dirs: list[str],
    transformed_split_dirs: list[str],
    output_dir: str,
    *,
    class_names: list[str],
    method: str,
    model: str,
    folds: int,
    epochs: int | None,
    rounds: int = 1,
    never_fit_folders: Sequence[str] = (),
) -> list[RankedLabel]:
    """Rank every judged image of the splits and write the ranking,
    cleanlab's flagged images and notes on what was not judged into
    `output_dir`.

    Args:
      raw_split_dirs: the ETL's examples of the splits (the auditor
        reads the images at their own resolution).
      transformed_split_dirs: the Transform's output of the same splits
        (cross_train and pixel_probe read the model's input).
      output_dir: gets RANKING_FILE, FINDINGS_FILE and NOTES_FILE.
      class_names: the label of each class index.
      method: one of out_of_sample.METHODS.
      model: the fixed model's registry name; its input size is what the
        Transform wrote, cross_train trains it, and its seed seeds all.
      folds: K of the K-fold split (fewer where a class is smaller).
      epochs: per fold; None for the method's default (the fixed
        model's own for cross_train, 20 for the auditor).
      rounds: K-fold rounds, each with its own split and seed; their
        probabilities are averaged (two auditor rounds rank dcai-roman's
        label issues clearly better than one, bench/RESULTS.md).
      never_fit_folders: the dataset folders (a path's first part, e.g.
        "test") whose images are judged but never learnt from
        (folds.plan_folds).
    """
    if method not in METHODS:
        raise ValueError(
            f"quality.label_method is {method!r}; choose one of"
            f" {', '.join(METHODS)}."
        )
    if rounds < 1:
        raise ValueError(
            f"quality.label_rounds is {rounds}; it must be at least 1."
        )
    spec = get_model_spec(model)
    started = time.monotonic()
    if method == AUDITOR:
        table = sorted_by_path(read_raw(raw_split_dirs))
        paths, labels = table.paths, table.labels
        inputs = ink_crops(table.pngs, AUDITOR_IMAGE_SIZE)
    else:
        pixels = sorted_by_path(
            read_pixels(
                transformed_split_dirs,
                (spec.image_size, spec.image_size, spec.channels),
            )
        )
        paths, labels, inputs = pixels.paths, pixels.labels, pixels.images
    never_fit = np.array([split_of(p) in never_fit_folders for p in paths])
    plans = [
        plan_folds(
            labels,
            class_names,
            folds=folds,
            seed=spec.seed + r,
            never_fit=never_fit,
        )
        for r in range(rounds)
    ]
    evidence = [
        out_of_sample(
            method,
            inputs,
            labels,
            plan,
            spec=spec,
            num_classes=len(class_names),
            epochs=epochs,
            seed=spec.seed + r,
        )
        for r, plan in enumerate(plans)
    ]
    judged = np.flatnonzero(plans[0].judged)  # the same in every round
    probabilities = np.mean([e.probabilities for e in evidence], axis=0)
    distances = [e.atypicality for e in evidence if e.atypicality is not None]
    atypicality = np.mean(distances, axis=0)[judged] if distances else None
    ranked = rank_labels(
        [paths[i] for i in judged],
        labels[judged],
        probabilities[judged],
        atypicality,
        [e.probabilities[judged] for e in evidence],
    )
    plan = plans[0]
    for note in plan.notes:
        logging.warning("Label issues: %s.", note)
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
                detail=_evidence(r, method, class_names),
            )
            for r in ranked
            if r.flagged
        ],
        posixpath.join(output_dir, FINDINGS_FILE),
    )
    with fileio.open(posixpath.join(output_dir, NOTES_FILE), "w") as file:
        file.write("".join(f"label issues: {note}\n" for note in plan.notes))
    return ranked


def _evidence(r: RankedLabel, method: str, class_names: list[str]) -> str:
    """The out-of-sample evidence in words, for issues.csv's detail."""
    text = (
        f"{method}: out of sample {r.suggested_probability:.0%}"
        f" {class_names[r.suggested]}, {r.given_probability:.0%}"
        f" {class_names[r.given]}"
    )
    if r.no_class:
        text += "; far from every class in the auditor's embedding"
    return text


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
                f"{r.given_probability:.6f}",
                f"{r.suggested_probability:.6f}",
                int(r.no_class),
                f"{r.agreed_probability:.6f}",
                int(r.doubted),
                f"{r.given_at_most:.6f}",
            ]
        )
    with fileio.open(path, "w") as file:
        file.write(buffer.getvalue())
