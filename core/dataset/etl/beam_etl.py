"""The ETL as an Apache Beam pipeline: image folder → gzip'd TFRecord
shards per split, a manifest, the class list and a quarantine report."""

import json
import logging
import math
import os
import posixpath
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import (
    PipelineOptions,
    StandardOptions,
)
from tfx.dsl.io import fileio

from core.dataset.etl.dataset_layout import (
    DatasetLayout,
    QuarantinedFile,
    SourceImage,
)
from core.dataset.etl.image_decoding import BadImageError
from core.dataset.etl.image_records import (
    load_image_record,
    manifest_row,
    to_tf_example,
)
from core.task import get_dataset_task

TFRECORD_SUFFIX = ".tfrecord.gz"
PARTS_DIR = "_parts"
MANIFEST_PARTS = "manifest"
QUARANTINE_PARTS = "quarantine"

_QUARANTINE_TAG = "quarantine"
_PROGRESS_SECONDS = 5.0


class _ReadImages(beam.DoFn):
    """SourceImage → (manifest row, serialized tf.train.Example), or a
    QuarantinedFile on a side output."""

    def __init__(
        self, root: str, classes: Sequence[str], total: int, task: str
    ):
        self._root = root
        self._labels = {name: index for index, name in enumerate(classes)}
        self._total = total
        self._task = task

    def setup(self) -> None:
        self._done = 0
        self._last_report = time.monotonic()
        self._annotated = get_dataset_task(self._task)

    def process(self, source: SourceImage) -> Iterator[Any]:
        try:
            record = load_image_record(
                self._root, source, self._labels.get(source.label_name, -1)
            )
            # Inside the try: an annotation that does not fit its image
            # quarantines the image too.
            example = to_tf_example(record, self._annotated)
            yield manifest_row(record), example.SerializeToString()
        except BadImageError as error:
            yield beam.pvalue.TaggedOutput(
                _QUARANTINE_TAG,
                QuarantinedFile(source.path, error.reason, error.fix),
            )
        self._report_progress()

    def _report_progress(self) -> None:
        self._done += 1
        now = time.monotonic()
        if now - self._last_report >= _PROGRESS_SECONDS:
            self._last_report = now
            logging.info(
                "ETL worker %d: %d images read (of %d in the dataset)",
                os.getpid(),
                self._done,
                self._total,
            )


class _BySplit(beam.PartitionFn):
    def __init__(self, splits: Sequence[str]):
        self._splits = list(splits)

    def partition_for(
        self, element: Any, num_partitions: int, *args: Any, **kwargs: Any
    ) -> int:
        row, _ = element
        return self._splits.index(row["split"])


def _shard_count(images: int, images_per_shard: int) -> int:
    return max(1, math.ceil(images / images_per_shard))


@beam.ptransform_fn
def ConvertImages(
    sources: beam.PCollection,
    layout: DatasetLayout,
    splits: Sequence[str],
    output_dir: str,
    images_per_shard: int,
    task: str,
) -> None:
    """Write each split's records, with the annotation keys of `task`, as
    TFRecord shards under `output_dir`, plus JSON-lines parts of the
    manifest and the quarantine report."""
    results = (
        sources
        # Spread the file list over the workers before the heavy step.
        | "Redistribute" >> beam.Reshuffle()
        | "ReadImages"
        >> beam.ParDo(
            _ReadImages(layout.root, layout.classes, len(layout.images), task)
        ).with_outputs(_QUARANTINE_TAG, main="records")
    )
    records = results.records
    by_split = records | "BySplit" >> beam.Partition(
        _BySplit(splits), len(splits)
    )
    for split, split_records in zip(splits, by_split, strict=True):
        count = sum(1 for image in layout.images if image.split == split)
        _ = (
            split_records
            | f"Examples[{split}]" >> beam.Values()
            | f"Write[{split}]"
            >> beam.io.WriteToTFRecord(
                posixpath.join(output_dir, split, "data"),
                file_name_suffix=TFRECORD_SUFFIX,
                num_shards=_shard_count(count, images_per_shard),
            )
        )
    parts = posixpath.join(output_dir, PARTS_DIR)
    _ = (
        records
        | "ManifestRows" >> beam.Keys()
        | "ManifestJson" >> beam.Map(json.dumps)
        | "WriteManifest"
        >> beam.io.WriteToText(posixpath.join(parts, MANIFEST_PARTS))
    )
    _ = (
        results[_QUARANTINE_TAG]
        | "QuarantineRows" >> beam.Map(lambda q: json.dumps(vars(q)))
        | "WriteQuarantine"
        >> beam.io.WriteToText(posixpath.join(parts, QUARANTINE_PARTS))
    )


def beam_options(
    beam_args: Sequence[str], *, images: int, parallel_from_images: int
) -> PipelineOptions:
    """Beam options from command-line style `beam_args`.

    On the DirectRunner, unless `--direct_running_mode` is given, small
    data runs in one process and data of `parallel_from_images` images or
    more on all cores: each worker process costs seconds to start, more
    than it saves on small data (see bench/RESULTS.md).
    """
    args = list(beam_args)
    runner = PipelineOptions(args).view_as(StandardOptions).runner
    if runner in (None, "DirectRunner") and not _given(
        args, "--direct_running_mode"
    ):
        if images >= parallel_from_images:
            args.append("--direct_running_mode=multi_processing")
            if not _given(args, "--direct_num_workers"):
                args.append("--direct_num_workers=0")  # all cores
        else:
            args.append("--direct_running_mode=in_memory")
    return PipelineOptions(args)


def _given(args: Sequence[str], flag: str) -> bool:
    return any(arg == flag or arg.startswith(f"{flag}=") for arg in args)


def run_beam_etl(
    layout: DatasetLayout,
    splits: Sequence[str],
    output_dir: str,
    *,
    images_per_shard: int,
    options: PipelineOptions,
    task: str,
) -> tuple[list[dict[str, Any]], list[QuarantinedFile]]:
    """Run the conversion; return the manifest rows and the files
    quarantined while reading, both sorted by path."""
    with beam.Pipeline(options=options) as pipeline:
        _ = (
            pipeline
            | "ListImages" >> beam.Create(layout.images)
            | "Convert"
            >> ConvertImages(
                layout, splits, output_dir, images_per_shard, task
            )
        )
    parts = posixpath.join(output_dir, PARTS_DIR)
    rows = list(_read_json_lines(parts, MANIFEST_PARTS))
    quarantined = [
        QuarantinedFile(**entry)
        for entry in _read_json_lines(parts, QUARANTINE_PARTS)
    ]
    fileio.rmtree(parts)
    rows.sort(key=lambda row: (row["split"], row["path"]))
    quarantined.sort(key=lambda entry: entry.path)
    return rows, quarantined


def _read_json_lines(parts_dir: str, prefix: str) -> Iterable[Any]:
    for part in sorted(fileio.glob(posixpath.join(parts_dir, prefix) + "*")):
        with fileio.open(part, "r") as file:
            for line in file:
                yield json.loads(line)
