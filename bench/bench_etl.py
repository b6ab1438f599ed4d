"""Benchmark the Beam image ETL against plain single-process loops on the
dcai-roman dataset (`make bench-etl`); results go in bench/RESULTS.md.

Every variant runs once per repeat, in a rotating order, and the table
reports medians, so a noisy shared machine skews all variants alike.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import dataclasses
import functools
import io
import logging
import multiprocessing
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import apache_beam as beam
import tensorflow as tf
from PIL import Image

from components.image_etl.dataset_layout import SourceImage
from components.image_etl.etl import run_etl
from components.image_etl.image_decoding import BadImageError
from components.image_etl.image_records import (
    load_image_record,
    to_tf_example,
)
from models import features
from pipeline.config import load_config

REPO = Path(__file__).resolve().parents[1]
DATASET = REPO.parent / "shared" / "datasets" / "dcai-roman"
SPLITS = ("train", "val")
IMAGES_PER_SHARD = 2000
PLAIN = "plain loop (PIL check, bytes + label)"
HEADER = ["variant", "images", "median s", "images/s", "vs plain", "runs s"]

# Makes one example of an image, or None to skip a bad file.
ExampleFn = Callable[[Path, SourceImage, int], tf.train.Example | None]
# Converts the dataset into an output folder; returns the images written.
RunFn = Callable[[Path, Path], int]


@dataclasses.dataclass(frozen=True)
class Variant:
    name: str
    run: RunFn


@dataclasses.dataclass(frozen=True)
class Result:
    name: str
    images: int
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rate(self) -> float:
        return self.images / self.median


def list_images(data_dir: Path) -> list[SourceImage]:
    return [
        SourceImage(
            split, file.parent.name, file.relative_to(data_dir).as_posix()
        )
        for split in SPLITS
        for file in sorted((data_dir / split).glob("*/*.png"))
    ]


def plain_example(
    data_dir: Path, source: SourceImage, label: int
) -> tf.train.Example | None:
    data = (data_dir / source.path).read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except (OSError, ValueError):
        return None
    feature = {
        features.IMAGE: tf.train.Feature(
            bytes_list=tf.train.BytesList(value=[data])
        ),
        features.LABEL: tf.train.Feature(
            int64_list=tf.train.Int64List(value=[label])
        ),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature))


def etl_work_example(
    data_dir: Path, source: SourceImage, label: int
) -> tf.train.Example | None:
    try:
        record = load_image_record(str(data_dir), source, label)
    except BadImageError:
        return None
    return to_tf_example(record)


def run_loop(make_example: ExampleFn, data_dir: Path, output: Path) -> int:
    """One gzip'd TFRecord file per split, written by this process."""
    images = list_images(data_dir)
    classes = sorted({image.label_name for image in images})
    labels = {name: index for index, name in enumerate(classes)}
    written = 0
    for split in SPLITS:
        (output / split).mkdir(parents=True)
        path = str(output / split / "data.tfrecord.gz")
        with tf.io.TFRecordWriter(path, options="GZIP") as writer:
            for source in (i for i in images if i.split == split):
                example = make_example(
                    data_dir, source, labels[source.label_name]
                )
                if example is not None:
                    writer.write(example.SerializeToString())
                    written += 1
    return written


def run_beam(beam_args: Sequence[str], data_dir: Path, output: Path) -> int:
    summary = run_etl(
        str(data_dir),
        str(output),
        splits=SPLITS,
        on_bad_file="skip",
        images_per_shard=IMAGES_PER_SHARD,
        beam_args=beam_args,
    )
    return sum(sum(counts.values()) for counts in summary.images.values())


def variants(default_args: Sequence[str]) -> list[Variant]:
    """The loops, then the ETL with the default Beam options and with
    overrides appended, as `dcp etl -- ...` does (the last flag wins)."""
    beam_variants = [
        ("multi_processing, --direct_num_workers=0 (default)", []),
        (
            "in_memory, 1 worker",
            ["--direct_running_mode=in_memory", "--direct_num_workers=1"],
        ),
    ]
    # Beam turns 0 workers into multiprocessing.cpu_count().
    if multiprocessing.cpu_count() != 2:
        beam_variants.append(
            (
                "multi_processing, --direct_num_workers=2",
                [
                    "--direct_running_mode=multi_processing",
                    "--direct_num_workers=2",
                ],
            )
        )
    else:
        print(
            "Skipping Beam multi_processing with --direct_num_workers=2:"
            " 0 already means 2 workers here (cpu_count 2).\n"
        )
    return [
        Variant(PLAIN, functools.partial(run_loop, plain_example)),
        Variant(
            "loop with the ETL's per-image work",
            functools.partial(run_loop, etl_work_example),
        ),
    ] + [
        Variant(
            f"Beam ETL, {name}",
            functools.partial(run_beam, [*default_args, *extra]),
        )
        for name, extra in beam_variants
    ]


def warm_page_cache(data_dir: Path) -> None:
    """Read every file once so the first variant does not pay for disk."""
    for image in list_images(data_dir):
        (data_dir / image.path).read_bytes()


def measure(
    candidates: list[Variant], data_dir: Path, scratch: Path, repeats: int
) -> list[Result]:
    seconds: dict[str, list[float]] = {v.name: [] for v in candidates}
    images: dict[str, int] = {}
    for repeat in range(repeats):
        shift = repeat % len(candidates)
        for variant in candidates[shift:] + candidates[:shift]:
            output = scratch / "out"
            started = time.perf_counter()
            images[variant.name] = variant.run(data_dir, output)
            elapsed = time.perf_counter() - started
            shutil.rmtree(output)
            seconds[variant.name].append(elapsed)
            print(
                f"  repeat {repeat + 1}/{repeats}: {variant.name}:"
                f" {images[variant.name]} images in {elapsed:.2f} s",
                flush=True,
            )
    return [
        Result(v.name, images[v.name], seconds[v.name]) for v in candidates
    ]


def machine() -> list[tuple[str, str]]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    models = [
        line.split(":", 1)[1].strip()
        for line in cpuinfo
        if line.startswith("model name")
    ]
    meminfo = Path("/proc/meminfo").read_text().split()
    mem_gib = int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20
    return [
        ("nproc", str(len(os.sched_getaffinity(0)))),
        ("CPU", models[0] if models else platform.processor()),
        ("memory", f"{mem_gib:.1f} GiB"),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("Apache Beam", beam.__version__),
        ("TensorFlow", tf.__version__),
    ]


def table_rows(results: list[Result]) -> list[list[str]]:
    plain_rate = next(r.rate for r in results if r.name == PLAIN)
    return [
        [
            r.name,
            str(r.images),
            f"{r.median:.2f}",
            f"{r.rate:.0f}",
            f"{r.rate / plain_rate:.2f}",
            ", ".join(f"{s:.2f}" for s in r.seconds),
        ]
        for r in results
    ]


def text_table(rows: list[list[str]]) -> str:
    widths = [
        max(len(row[i]) for row in [HEADER, *rows]) for i in range(len(HEADER))
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(HEADER), *(line(row) for row in rows)])


def markdown_table(rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(HEADER) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    if not DATASET.is_dir():
        print(f"Skipping the ETL benchmark: {DATASET} not found.")
        return 0
    # Beam relays every worker's warnings; the timings are what matter.
    logging.getLogger("apache_beam").setLevel(logging.ERROR)
    description = machine()
    for key, value in description:
        print(f"- {key}: {value}")
    default_args = load_config(REPO / "params.yaml").etl.beam_args
    print(f"- default Beam args (params.yaml): {' '.join(default_args)}")
    print(f"- dataset: {DATASET}, splits {', '.join(SPLITS)}\n")
    candidates = variants(default_args)
    warm_page_cache(DATASET)
    with tempfile.TemporaryDirectory(prefix="bench-etl-") as scratch:
        results = measure(candidates, DATASET, Path(scratch), repeats)
    rows = table_rows(results)
    print(f"\nMedian of {repeats} runs each:\n")
    print(text_table(rows))
    print("\nMarkdown:\n")
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
