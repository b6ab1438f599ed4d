"""`dcp shift`: is a new image set distributed like the training set of
a finished run? Writes shift.html, shift.json and, given candidate
images, candidates.csv."""

import csv
import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from core.dataset.staged_output import make_output_folder
from core.readers import trained_model
from core.readers.example_tables import read_raw
from core.task import get_task
from iteration.new_data.finished_run import FinishedRun
from iteration.new_data.folder_images import UnreadableFile, load_folder
from iteration.new_data.shift import (
    Cluster,
    Clustering,
    closeness_to_new,
    cluster_shares,
    embedding_test,
    near_copies,
    project_2d,
    property_drift,
)
from iteration.new_data.shift_report import (
    CandidateRow,
    ShiftReport,
    render_shift_report,
)
from iteration.settings import ShiftConfig

REPORT_FILE = "shift.html"
FIGURES_FILE = "shift.json"
CANDIDATES_FILE = "candidates.csv"
# The writer named in the marker of every output (staged_output).
OUTPUT_KIND = "dcp shift"
CANDIDATE_COLUMNS = (
    "rank",
    "path",
    "score",
    "distance_to_new",
    "distance_to_train",
    "cluster",
    "under_represented_cluster",
    "near_copy_of",
)


@dataclasses.dataclass(frozen=True)
class ImageSet:
    """Images of one source, as the analyses need them."""

    paths: list[str]
    properties: dict[str, np.ndarray]
    pngs: list[bytes]
    embeddings: np.ndarray

    def __len__(self) -> int:
        return len(self.paths)


@dataclasses.dataclass(frozen=True)
class ShiftResult:
    report: ShiftReport
    output_dir: Path
    candidates_csv: Path | None

    def format(self) -> str:
        r = self.report
        test = r.test
        verdict = "shift detected" if r.shifted else "no shift"
        drifted = [d for d in r.drifts if d.drifted]
        under = [c for c in r.clusters if c.under_represented]
        lines = [
            f"Verdict: {verdict} (p={test.p_value:.3g}, MMD²"
            f" {test.mmd2:.4f}, domain AUC {test.domain_auc:.2f}) between"
            f" {r.new_folder} ({r.new_count} images) and the training set"
            f" of run {r.run_id} ({r.train_count} images).",
            "  drifted properties: "
            + (
                ", ".join(f"{d.name} (D={d.statistic:.2f})" for d in drifted)
                or "none"
            ),
            "  under-represented clusters: "
            + (
                ", ".join(
                    f"{c.index} ({c.new_share:.0%} of new, {c.train_share:.0%}"
                    " of train)"
                    for c in under
                )
                or "none"
            ),
        ]
        unreadable = len(r.new_unreadable) + len(r.candidate_unreadable)
        if unreadable:
            lines.append(
                f"  unreadable files: {unreadable}, listed in the report"
            )
        if self.candidates_csv:
            lines.append(f"  candidates ranked: {self.candidates_csv}")
        lines.append(
            f"  report: {self.output_dir / REPORT_FILE}, figures:"
            f" {self.output_dir / FIGURES_FILE}"
        )
        return "\n".join(lines)


def training_set(run: FinishedRun, model: tf.keras.Model) -> ImageSet:
    """The run's train split: the ETL's examples for the properties and
    thumbnails, the Transform's output for the embeddings."""
    raw = read_raw([run.train_examples])
    pixels = trained_model.read_model_inputs(
        model, [run.transformed_train_examples]
    )
    row_of = {path: row for row, path in enumerate(pixels.paths)}
    missing = [path for path in raw.paths if path not in row_of]
    if missing:
        raise ValueError(
            f"{run.transformed_train_examples}: no transformed example of"
            f" {missing[0]} and {len(missing) - 1} more train images; the"
            " run's Transform output does not match its examples"
        )
    order = [row_of[path] for path in raw.paths]
    logging.info(
        "Embedding the %d train images of run %s", len(raw), run.run_id
    )
    return ImageSet(
        paths=raw.paths,
        properties=raw.properties,
        pngs=raw.pngs,
        embeddings=trained_model.embed(model, pixels.images[order]),
    )


def folder_set(
    folder: Path, run: FinishedRun, model: tf.keras.Model
) -> tuple[ImageSet, list[UnreadableFile]]:
    """The images below `folder`, embedded by the run's model, and the
    files that could not be used."""
    images = load_folder(
        folder,
        transform_graph=run.transform_graph,
        task=get_task(run.task),
    )
    if not len(images):
        raise ValueError(
            f"{folder}: no readable images (PNG or JPEG) in it or below"
        )
    return (
        ImageSet(
            paths=images.paths,
            properties=images.properties,
            pngs=images.pngs,
            embeddings=trained_model.embed(model, images.images),
        ),
        images.unreadable,
    )


def detect_shift(
    new_folder: Path,
    *,
    run: FinishedRun,
    candidates_folder: Path | None,
    output_dir: Path,
    settings: ShiftConfig,
) -> ShiftResult:
    """Compare the images below `new_folder` with the run's training set
    and rank the images below `candidates_folder` by how much closer
    they are to the new images than to train. `output_dir` must be new,
    empty or an earlier output of `dcp shift`, outside the image folders
    (staged_output)."""
    make_output_folder(
        output_dir,
        kind=OUTPUT_KIND,
        inputs=[new_folder, *filter(None, [candidates_folder])],
    )
    model = trained_model.load_keras_model(run.model)
    new, new_unreadable = folder_set(new_folder, run, model)
    train = training_set(run, model)
    candidates, candidate_unreadable = (
        folder_set(candidates_folder, run, model)
        if candidates_folder
        else (None, [])
    )
    logging.info(
        "Testing %d new against %d train images (%d permutations)",
        len(new),
        len(train),
        settings.permutations,
    )
    drifts = property_drift(
        train.properties, new.properties, alpha=settings.alpha
    )
    test = embedding_test(
        train.embeddings, new.embeddings, permutations=settings.permutations
    )
    clustering = cluster_shares(
        train.embeddings,
        new.embeddings,
        clusters=settings.clusters,
        alpha=settings.alpha,
    )
    ranking = (
        rank_candidates(train, new, candidates, clustering)
        if candidates
        else []
    )
    train_2d, new_2d, candidates_2d, variance = project_2d(
        train.embeddings,
        new.embeddings,
        candidates.embeddings if candidates else np.empty((0, 2)),
    )
    report = ShiftReport(
        run_id=run.run_id,
        new_folder=str(new_folder),
        candidates_folder=str(candidates_folder or ""),
        train_count=len(train),
        new_count=len(new),
        candidate_count=len(candidates) if candidates else 0,
        alpha=settings.alpha,
        shifted=test.p_value < settings.alpha,
        drifts=drifts,
        test=test,
        clusters=clustering.clusters,
        cluster_examples={
            c.index: [(new.paths[i], new.pngs[i]) for i in c.examples]
            for c in clustering.clusters
        },
        candidates=ranking,
        new_unreadable=new_unreadable,
        candidate_unreadable=candidate_unreadable,
        projection={
            "train": train_2d,
            "new": new_2d,
            "candidates": candidates_2d,
        },
        explained_variance=(float(variance[0]), float(variance[1])),
    )
    (output_dir / REPORT_FILE).write_text(render_shift_report(report))
    (output_dir / FIGURES_FILE).write_text(
        json.dumps(figures(report), indent=2) + "\n"
    )
    candidates_csv = None
    if candidates:
        candidates_csv = output_dir / CANDIDATES_FILE
        write_candidates_csv(candidates_csv, ranking)
    return ShiftResult(report, output_dir, candidates_csv)


def rank_candidates(
    train: ImageSet,
    new: ImageSet,
    candidates: ImageSet,
    clustering: Clustering,
) -> list[CandidateRow]:
    """Candidates closest to the new data relative to train first; a
    near-copy of a better-ranked candidate after all the others."""
    score, to_new, to_train = closeness_to_new(
        train.embeddings, new.embeddings, candidates.embeddings
    )
    copy_of = near_copies(
        train.embeddings, candidates.embeddings, np.argsort(-score)
    )
    under = {c.index for c in clustering.clusters if c.under_represented}
    cluster_of = clustering.model.predict(candidates.embeddings)
    rows = [
        CandidateRow(
            path=path,
            score=float(s),
            distance_to_new=float(n),
            distance_to_train=float(t),
            cluster=int(c),
            under_represented_cluster=int(c) in under,
            png=png,
            near_copy_of=candidates.paths[copy] if copy >= 0 else "",
        )
        for path, s, n, t, c, png, copy in zip(
            candidates.paths,
            score,
            to_new,
            to_train,
            cluster_of,
            candidates.pngs,
            copy_of,
            strict=True,
        )
    ]
    return sorted(rows, key=lambda row: (bool(row.near_copy_of), -row.score))


def write_candidates_csv(path: Path, ranking: list[CandidateRow]) -> None:
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(CANDIDATE_COLUMNS)
        for rank, row in enumerate(ranking, start=1):
            writer.writerow(
                (
                    rank,
                    row.path,
                    f"{row.score:.4f}",
                    f"{row.distance_to_new:.4f}",
                    f"{row.distance_to_train:.4f}",
                    row.cluster,
                    row.under_represented_cluster,
                    row.near_copy_of,
                )
            )


def figures(report: ShiftReport) -> dict[str, Any]:
    """What shift.json holds: every figure of the report."""

    def cluster(c: Cluster) -> dict[str, Any]:
        row = dataclasses.asdict(c)
        row["examples"] = [
            path for path, _ in report.cluster_examples[c.index]
        ]
        return row

    return {
        "run_id": report.run_id,
        "new_folder": report.new_folder,
        "candidates_folder": report.candidates_folder or None,
        "images": {
            "train": report.train_count,
            "new": report.new_count,
            "candidates": report.candidate_count,
        },
        "alpha": report.alpha,
        "shift": report.shifted,
        "embedding_test": dataclasses.asdict(report.test),
        "property_drift": [dataclasses.asdict(d) for d in report.drifts],
        "drifted_properties": [d.name for d in report.drifts if d.drifted],
        "clusters": [cluster(c) for c in report.clusters],
        "under_represented_clusters": [
            c.index for c in report.clusters if c.under_represented
        ],
        "explained_variance": list(report.explained_variance),
        "unreadable": {
            "new": [dataclasses.asdict(u) for u in report.new_unreadable],
            "candidates": [
                dataclasses.asdict(u) for u in report.candidate_unreadable
            ],
        },
    }
