"""Run the image ETL end to end: check the folder, convert it with Beam,
account for every file, publish the output atomically."""

import csv
import dataclasses
import hashlib
import json
import logging
import posixpath
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import tensorflow as tf
from tfx.dsl.io import fileio

from core.dataset.etl.beam_etl import beam_options, run_beam_etl
from core.dataset.etl.dataset_layout import (
    DatasetError,
    DatasetLayout,
    QuarantinedFile,
)
from core.dataset.etl.image_records import MANIFEST_COLUMNS
from core.dataset.staged_output import (
    check_output_folder,
    staged_directory,
)
from core.task import DEFAULT_TASK, DatasetTask, get_dataset_task

MANIFEST_FILE = "manifest.csv"
QUARANTINE_FILE = "quarantine.csv"
CLASSES_FILE = "classes.json"
SUMMARY_FILE = "summary.json"
# The writer named in the marker of every output (staged_output).
OUTPUT_KIND = "dcp etl"

ON_BAD_FILE_CHOICES = ("skip", "fail")
_MAX_LISTED = 20


@dataclasses.dataclass(frozen=True)
class EtlSummary:
    data_dir: str
    output_dir: str
    classes: tuple[str, ...]
    images: dict[str, dict[str, int]]  # split → class → count
    quarantined: tuple[QuarantinedFile, ...]
    warnings: tuple[str, ...]
    seconds: float
    # Of the input files (names, sizes, modification times) and settings.
    fingerprint: str
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    # split → class → objects, where an annotation holds objects (boxes).
    instances: dict[str, dict[str, int]] = dataclasses.field(
        default_factory=dict
    )

    def to_json(self) -> dict[str, Any]:
        summary = dataclasses.asdict(self)
        summary["quarantined"] = [vars(q) for q in self.quarantined]
        return summary

    @classmethod
    def from_json(cls, summary: dict[str, Any]) -> "EtlSummary":
        return cls(
            **{
                **summary,
                "classes": tuple(summary["classes"]),
                "quarantined": tuple(
                    QuarantinedFile(**q) for q in summary["quarantined"]
                ),
                "warnings": tuple(summary["warnings"]),
            }
        )

    def format(self) -> str:
        converted = sum(sum(c.values()) for c in self.images.values())
        lines = [
            f"ETL of {self.data_dir} done in {self.seconds:.1f} s:"
            f" {converted} images converted,"
            f" {len(self.quarantined)} quarantined.",
        ]
        for split, counts in self.images.items():
            objects = self.instances.get(split)
            lines.append(
                f"  {split}: {sum(counts.values())} images in"
                f" {len(counts)} classes"
                if objects is None
                else f"  {split}: {sum(counts.values())} images,"
                f" {sum(objects.values())} objects: "
                + ", ".join(f"{n} {name}" for name, n in objects.items())
            )
        lines += [
            f"  labels: {', '.join(sorted(sources))} → {label}"
            for label, sources in _by_label(self.labels).items()
        ]
        lines += [f"  warning: {warning}" for warning in self.warnings]
        if self.quarantined:
            lines.append(
                "  quarantined (left out; see"
                f" {posixpath.join(self.output_dir, QUARANTINE_FILE)}):"
            )
            lines += _list_quarantined(self.quarantined)
        lines.append(f"  output: {self.output_dir}")
        return "\n".join(lines)


def run_etl(
    data_dir: str,
    output_dir: str,
    *,
    splits: Sequence[str],
    on_bad_file: str,
    images_per_shard: int,
    parallel_from_images: int,
    beam_args: Sequence[str] = (),
    reuse_unchanged: bool = False,
    labels: Mapping[str, str] = {},
    output_option: str = "--output",
    task: str = DEFAULT_TASK,
) -> EtlSummary:
    """Convert `data_dir/<split>/<class>/<image>` into `output_dir`.

    Args:
      data_dir: the image folder.
      output_dir: replaced as a whole when the run succeeds, untouched
        when it fails; refused (OutputFolderError) unless it is new, an
        empty folder or an earlier ETL output, outside `data_dir`.
      splits: the split folders to convert, e.g. ("train", "val").
      on_bad_file: "skip" converts the good files and reports the bad
        ones; "fail" publishes nothing if any file is bad.
      images_per_shard: about how many images go into one TFRecord file.
      parallel_from_images: on the DirectRunner, use all cores from this
        many images on, one process below (unless beam_args choose).
      beam_args: Beam pipeline options, e.g. ["--runner=FlinkRunner"].
      reuse_unchanged: keep an existing output made from the same files
        (names, sizes, modification times) with the same settings; new
        TFRecord files would make TFX's ImportExampleGen miss its cache.
      labels: class folder name → the label to give its images, e.g.
        {"bus": "vehicle", "car": "vehicle"}; the manifest keeps the
        folder's name as folder_label.
      output_option: how the user names another output place, for the
        refusal of an output that would destroy their files.
      task: whose annotation keys the examples carry (core/task.py).
    """
    if on_bad_file not in ON_BAD_FILE_CHOICES:
        raise ValueError(
            f"on_bad_file must be one of {ON_BAD_FILE_CHOICES},"
            f" not {on_bad_file!r}"
        )
    # Before the scan, and before reading a previous summary from it.
    check_output_folder(
        output_dir, kind=OUTPUT_KIND, inputs=[data_dir], option=output_option
    )
    started = time.monotonic()
    layout = get_dataset_task(task).scan_dataset(
        data_dir, tuple(splits), labels
    )
    splits = layout.splits
    fingerprint = input_fingerprint(
        layout,
        {
            "on_bad_file": on_bad_file,
            "shard": images_per_shard,
            "labels": dict(labels),
            "task": task,
        },
    )
    if reuse_unchanged:
        previous = read_summary(output_dir)
        if previous is not None and previous.fingerprint == fingerprint:
            logging.info("ETL: %s is up to date with %s", output_dir, data_dir)
            return previous
    for warning in layout.warnings:
        logging.warning("%s", warning)
    logging.info(
        "ETL: %d image files in %s → %s",
        len(layout.images),
        ", ".join(splits),
        output_dir,
    )
    with staged_directory(
        output_dir, kind=OUTPUT_KIND, inputs=[data_dir], option=output_option
    ) as staging:
        rows, unreadable = run_beam_etl(
            layout,
            splits,
            staging,
            images_per_shard=images_per_shard,
            task=task,
            options=beam_options(
                beam_args,
                images=len(layout.images),
                parallel_from_images=parallel_from_images,
            ),
        )
        quarantined = tuple(
            sorted(layout.quarantined + tuple(unreadable), key=_by_path)
        )
        if quarantined and on_bad_file == "fail":
            raise DatasetError(
                f"{len(quarantined)} bad files in {data_dir}; nothing was"
                " written. Fix or remove them, or rerun with"
                " --on-bad-file=skip to convert the rest:\n"
                + "\n".join(_list_quarantined(quarantined))
            )
        images = _count_images(rows, splits)
        instances = _count_instances(rows, layout, get_dataset_task(task))
        for split, counts in images.items():
            if not counts:
                raise DatasetError(
                    f"{data_dir}/{split}: every image of the split is"
                    " unusable; see the reasons below\n"
                    + "\n".join(_list_quarantined(quarantined))
                )
        summary = EtlSummary(
            data_dir=data_dir,
            output_dir=output_dir,
            classes=layout.classes,
            images=images,
            quarantined=quarantined,
            warnings=layout.warnings,
            seconds=round(time.monotonic() - started, 1),
            fingerprint=fingerprint,
            labels=dict(labels),
            instances=instances,
        )
        _write_csv(staging, MANIFEST_FILE, MANIFEST_COLUMNS, rows)
        _write_csv(
            staging,
            QUARANTINE_FILE,
            ("path", "reason", "fix"),
            [vars(q) for q in quarantined],
        )
        _write_json(staging, CLASSES_FILE, list(layout.classes))
        _write_json(staging, SUMMARY_FILE, summary.to_json())
    return summary


class EtlOutputError(ValueError):
    """The ETL output cannot be read: missing, or its filesystem (gs://
    without network or credentials, say) refused."""


def read_classes(data_root: str) -> list[str]:
    """The class names of the ETL output `data_root`, in label order, as
    run_etl wrote them to classes.json."""
    return list(_read_output_json(data_root, CLASSES_FILE))


def read_data_dir(data_root: str) -> str:
    """The image folder that the ETL output `data_root` was converted
    from, as run_etl recorded it in summary.json."""
    return str(_read_output_json(data_root, SUMMARY_FILE)["data_dir"])


def _read_output_json(data_root: str, name: str) -> Any:
    path = posixpath.join(data_root, name)
    try:
        if not fileio.exists(path):
            raise EtlOutputError(
                f"{path}: not found; run `dcp etl` first to convert the images"
            )
        with fileio.open(path, "r") as file:
            return json.load(file)
    except tf.errors.OpError as error:
        # The first line says why, e.g. "Could not resolve host".
        reason = error.message.splitlines()[0]
        raise EtlOutputError(f"{path}: cannot read it ({reason})") from None


def input_fingerprint(layout: DatasetLayout, settings: dict[str, Any]) -> str:
    """A digest of what decides the ETL's output: every file's name, size
    and modification time, and the settings."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    reasons = {q.path: q.reason for q in layout.quarantined}
    for path in sorted([i.path for i in layout.images] + list(reasons)):
        try:
            stat = fileio.stat(posixpath.join(layout.root, path))
        except (OSError, tf.errors.OpError):
            # A symlink to nothing, quarantined with a reason that names
            # its target, or a file deleted since the scan, which the
            # conversion will quarantine.
            stamp = reasons.get(path, "missing")
        else:
            stamp = f"{stat.length}\0{stat.mtime_nsec}"
        digest.update(f"{path}\0{stamp}\n".encode())
    return digest.hexdigest()


def read_summary(output_dir: str) -> EtlSummary | None:
    """The summary.json run_etl wrote into `output_dir`; None if there is
    none, or one from before the ETL kept its input's fingerprint."""
    path = posixpath.join(output_dir, SUMMARY_FILE)
    if not fileio.exists(path):
        return None
    with fileio.open(path, "r") as file:
        summary = json.load(file)
    if "fingerprint" not in summary:
        return None
    return EtlSummary.from_json(summary)


def _by_label(labels: Mapping[str, str]) -> dict[str, list[str]]:
    """{"bus": "vehicle", "car": "vehicle"} → {"vehicle": ["bus", "car"]}"""
    grouped: dict[str, list[str]] = {}
    for source, label in labels.items():
        grouped.setdefault(label, []).append(source)
    return dict(sorted(grouped.items()))


def _by_path(entry: QuarantinedFile) -> str:
    return entry.path


def _count_images(
    rows: list[dict[str, Any]], splits: Sequence[str]
) -> dict[str, dict[str, int]]:
    counts = Counter((row["split"], row["label_name"]) for row in rows)
    return {
        split: {
            name: n for (s, name), n in sorted(counts.items()) if s == split
        }
        for split in splits
    }


def _count_instances(
    rows: list[dict[str, Any]], layout: DatasetLayout, task: DatasetTask
) -> dict[str, dict[str, int]]:
    """split → class → objects in the converted images, for a task whose
    annotations hold objects; empty for one whose annotation is a class."""
    converted = {row["path"] for row in rows}
    counts: dict[str, Counter[str]] = {}
    for image in layout.images:
        objects = task.instances(image)
        if image.path in converted and objects:
            counts.setdefault(image.split, Counter()).update(objects)
    if not counts:
        return {}
    return {
        split: {
            name: counts[split][name]
            for name in layout.classes
            if counts.get(split, Counter())[name]
        }
        for split in layout.splits
    }


def _list_quarantined(quarantined: Sequence[QuarantinedFile]) -> list[str]:
    lines = [
        f"    {q.path}: {q.reason} (fix: {q.fix})"
        for q in quarantined[:_MAX_LISTED]
    ]
    if len(quarantined) > _MAX_LISTED:
        lines.append(f"    ... and {len(quarantined) - _MAX_LISTED} more")
    return lines


def _write_csv(
    directory: str,
    name: str,
    columns: Sequence[str],
    rows: list[dict[str, Any]],
) -> None:
    with fileio.open(posixpath.join(directory, name), "w") as file:
        writer = csv.DictWriter(file, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)


def _write_json(directory: str, name: str, value: Any) -> None:
    with fileio.open(posixpath.join(directory, name), "w") as file:
        json.dump(value, file, indent=2)
        file.write("\n")
