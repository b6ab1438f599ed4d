"""Benchmark the Beam image ETL against plain single-process loops on the
dcai-roman dataset (`make bench-etl`); results go in bench/RESULTS.md.

Every variant runs once per repeat, in a rotating order, and the table
reports medians, so a noisy shared machine skews all variants alike.

A second section times Beam in_memory against multi_processing on larger
copies of the dataset (`--scales`): each is the dataset replicated N times
as symlinks in a temporary folder, to find where the worker processes'
start-up cost is paid back (the `etl.parallel_from_images` threshold).
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
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import apache_beam as beam
import tensorflow as tf
from PIL import Image

from core.dataset.etl.beam_etl import beam_options
from core.dataset.etl.dataset_layout import SourceImage
from core.dataset.etl.etl import run_etl
from core.dataset.etl.image_decoding import BadImageError
from core.dataset.etl.image_records import (
    load_image_record,
    to_tf_example,
)
from dcp.config import load_config
from models import features
from tasks.classification.task import TASK

REPO = Path(__file__).resolve().parents[1]
DATASET = REPO.parent / "shared" / "datasets" / "dcai-roman"
SPLITS = ("train", "val")
IMAGES_PER_SHARD = 2000
PLAIN = "plain loop (PIL check, bytes + label)"
HEADER = ["variant", "images", "median s", "images/s", "vs plain", "runs s"]
SCALE_HEADER = [
    "scale",
    "images",
    "in_memory s",
    "multi_processing s",
    "ratio",
    "per-repeat ratios",
    "repeats",
]
# Fewer runs from this many images keep `make bench-etl` near 15 minutes.
LARGE_IMAGES = 20_000
LARGE_REPEATS = 2
IN_MEMORY = "Beam ETL, in_memory, 1 worker"
MULTI = "Beam ETL, multi_processing, all cores (--direct_num_workers=0)"
IN_MEMORY_ARGS = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]
MULTI_ARGS = [
    "--direct_running_mode=multi_processing",
    "--direct_num_workers=0",
]

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
    return to_tf_example(record, TASK)


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


def run_beam(
    beam_args: Sequence[str],
    parallel_from_images: int,
    data_dir: Path,
    output: Path,
) -> int:
    summary = run_etl(
        str(data_dir),
        str(output),
        splits=SPLITS,
        on_bad_file="skip",
        images_per_shard=IMAGES_PER_SHARD,
        parallel_from_images=parallel_from_images,
        beam_args=beam_args,
    )
    return sum(sum(counts.values()) for counts in summary.images.values())


def auto_mode(
    default_args: Sequence[str], images: int, parallel_from_images: int
) -> str:
    """The DirectRunner mode the ETL picks by itself for this many images."""
    options = beam_options(
        default_args, images=images, parallel_from_images=parallel_from_images
    ).get_all_options()
    return str(options.get("direct_running_mode"))


def beam_variant(
    name: str,
    args: Sequence[str],
    parallel_from_images: int,
) -> Variant:
    return Variant(
        name, functools.partial(run_beam, list(args), parallel_from_images)
    )


def loop_variants() -> list[Variant]:
    return [
        Variant(PLAIN, functools.partial(run_loop, plain_example)),
        Variant(
            "loop with the ETL's per-image work",
            functools.partial(run_loop, etl_work_example),
        ),
    ]


def scale_variants(
    default_args: Sequence[str], parallel_from_images: int
) -> list[Variant]:
    """Beam in_memory and multi_processing on all cores, both chosen
    explicitly so the threshold in params.yaml does not pick for them."""
    return [
        beam_variant(
            IN_MEMORY, [*default_args, *IN_MEMORY_ARGS], parallel_from_images
        ),
        beam_variant(
            MULTI, [*default_args, *MULTI_ARGS], parallel_from_images
        ),
    ]


def variants(
    default_args: Sequence[str], parallel_from_images: int, auto: str
) -> list[Variant]:
    """The loops, then the ETL with the default Beam options (the mode
    picked by data size) and with a mode appended, as `dcp etl -- ...`
    does."""
    beam_variants = [
        beam_variant(
            f"Beam ETL, auto (params.yaml; picked {auto})",
            default_args,
            parallel_from_images,
        ),
        *scale_variants(default_args, parallel_from_images),
    ]
    # Beam turns 0 workers into multiprocessing.cpu_count().
    if multiprocessing.cpu_count() != 2:
        beam_variants.append(
            beam_variant(
                "Beam ETL, multi_processing, --direct_num_workers=2",
                [
                    *default_args,
                    "--direct_running_mode=multi_processing",
                    "--direct_num_workers=2",
                ],
                parallel_from_images,
            )
        )
    else:
        print(
            "Skipping Beam multi_processing with --direct_num_workers=2:"
            " 0 already means 2 workers here (cpu_count 2).\n"
        )
    return loop_variants() + beam_variants


def replicate(data_dir: Path, copies: int, target: Path) -> Path:
    """`target/<split>/<label>/<copy>_<name>` → each original file, as
    symlinks: `copies` times the images, no pixel data copied."""
    for image in list_images(data_dir):
        source = data_dir / image.path
        folder = target / image.split / image.label_name
        folder.mkdir(parents=True, exist_ok=True)
        for copy in range(copies):
            (folder / f"{copy}_{source.name}").symlink_to(source)
    return target


def warm_page_cache(data_dir: Path) -> None:
    """Read every file once so the first variant does not pay for disk."""
    for image in list_images(data_dir):
        (data_dir / image.path).read_bytes()


class CpuMonitor:
    """How much CPU other programs take during a timed run.

    A thread samples, once a second, the machine's busy CPU time
    (/proc/stat) and that of this process and its descendants (Beam's
    workers); busy time that was not ours went to other programs. A worker
    that exits between samples loses at most its last second to "other".
    """

    def __init__(self) -> None:
        self._tick = os.sysconf("SC_CLK_TCK")
        self._ours: dict[tuple[int, int], float] = {}  # (pid, start): s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> "CpuMonitor":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            self._sample()

    def _busy(self) -> float:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(
            int, fields[1:9]
        )
        return (user + nice + system + irq + softirq + steal) / self._tick

    def _sample(self) -> None:
        pending = [os.getpid()]
        while pending:
            pid = pending.pop()
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
                for task in Path(f"/proc/{pid}/task").iterdir():
                    children = (task / "children").read_text().split()
                    pending += [int(child) for child in children]
            except OSError:
                continue  # exited meanwhile
            after_name = stat.rsplit(")", 1)[1].split()
            cpu = (int(after_name[11]) + int(after_name[12])) / self._tick
            with self._lock:
                self._ours[(pid, int(after_name[19]))] = cpu

    def snapshot(self) -> tuple[float, float]:
        """(machine busy s, ours s), both cumulative."""
        self._sample()
        with self._lock:
            return self._busy(), sum(self._ours.values())

    @staticmethod
    def others(
        before: tuple[float, float], after: tuple[float, float]
    ) -> float:
        """CPU seconds other programs used between two snapshots."""
        return max(0.0, (after[0] - before[0]) - (after[1] - before[1]))


def measure(
    candidates: list[Variant],
    data_dir: Path,
    scratch: Path,
    repeats: int,
    monitor: CpuMonitor,
    others: list[float],
) -> list[Result]:
    """Each variant once per repeat, the order rotated between repeats;
    appends to `others` the cores other programs kept busy in each run."""
    seconds: dict[str, list[float]] = {v.name: [] for v in candidates}
    images: dict[str, int] = {}
    for repeat in range(repeats):
        shift = repeat % len(candidates)
        for variant in candidates[shift:] + candidates[:shift]:
            output = scratch / "out"
            before = monitor.snapshot()
            started = time.perf_counter()
            images[variant.name] = variant.run(data_dir, output)
            elapsed = time.perf_counter() - started
            others.append(
                CpuMonitor.others(before, monitor.snapshot()) / elapsed
            )
            shutil.rmtree(output)
            seconds[variant.name].append(elapsed)
            print(
                f"  repeat {repeat + 1}/{repeats}: {variant.name}:"
                f" {images[variant.name]} images in {elapsed:.2f} s"
                f" (other programs: {others[-1]:.2f} cores)",
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


@dataclasses.dataclass(frozen=True)
class ScaleResult:
    scale: int
    in_memory: Result
    multi: Result

    @property
    def ratio(self) -> float:
        """multi_processing time over in_memory time: below 1 means
        multi_processing is faster."""
        return self.multi.median / self.in_memory.median

    @property
    def repeat_ratios(self) -> list[float]:
        """The same ratio within each repeat (both variants ran back to
        back in it)."""
        return [
            m / i
            for m, i in zip(
                self.multi.seconds, self.in_memory.seconds, strict=True
            )
        ]


def scale_rows(results: list[ScaleResult]) -> list[list[str]]:
    return [
        [
            str(r.scale),
            str(r.in_memory.images),
            f"{r.in_memory.median:.2f}",
            f"{r.multi.median:.2f}",
            f"{r.ratio:.2f}",
            ", ".join(f"{x:.2f}" for x in r.repeat_ratios),
            str(len(r.in_memory.seconds)),
        ]
        for r in results
    ]


def crossover(results: list[ScaleResult]) -> str:
    """Where multi_processing starts to win: between which measured sizes
    the ratio crosses 1, and the size where straight lines fitted to each
    mode's medians (start-up + images x per-image cost) meet."""
    ordered = sorted(results, key=lambda r: r.in_memory.images)
    lines = []
    faster = [r for r in ordered if r.ratio < 1]
    slower = [r for r in ordered if r.ratio >= 1]
    if not faster:
        lines.append(
            "multi_processing was not faster at any measured size (up to"
            f" {ordered[-1].in_memory.images} images)."
        )
    elif not slower:
        lines.append(
            "multi_processing was faster at every measured size (from"
            f" {ordered[0].in_memory.images} images)."
        )
    elif max(r.in_memory.images for r in slower) < faster[0].in_memory.images:
        lines.append(
            "multi_processing slower up to"
            f" {max(r.in_memory.images for r in slower)} images, faster from"
            f" {faster[0].in_memory.images} images."
        )
    else:
        lines.append(
            "no clean crossover: multi_processing faster at"
            f" {', '.join(str(r.in_memory.images) for r in faster)} images"
            " but slower at"
            f" {', '.join(str(r.in_memory.images) for r in slower)}."
        )
    if len({r.in_memory.images for r in ordered}) >= 2:
        sizes = [float(r.in_memory.images) for r in ordered]
        fits = {}
        for mode in ("in_memory", "multi"):
            times = [getattr(r, mode).median for r in ordered]
            slope, intercept = statistics.linear_regression(sizes, times)
            fits[mode] = (intercept, slope)
            lines.append(
                f"  fit {mode}: {intercept:.2f} s + {slope * 1000:.3f} ms"
                " per image"
            )
        (a_mem, b_mem), (a_multi, b_multi) = fits["in_memory"], fits["multi"]
        if min(b_mem, b_multi) <= 0:
            lines.append(
                "  a fitted per-image cost is not positive: too noisy"
            )
        elif b_mem > b_multi:
            cross = (a_multi - a_mem) / (b_mem - b_multi)
            beyond = cross > sizes[-1]
            lines.append(
                f"  the fitted lines cross at about {cross:.0f} images"
                + (" (extrapolated)" if beyond else "")
            )
        else:
            lines.append(
                "  the fitted lines do not cross: multi_processing costs"
                " as much or more per image"
            )
    return "\n".join(lines)


def table_rows(results: list[Result]) -> list[list[str]]:
    plain_rate = next((r.rate for r in results if r.name == PLAIN), None)
    return [
        [
            r.name,
            str(r.images),
            f"{r.median:.2f}",
            f"{r.rate:.0f}",
            f"{r.rate / plain_rate:.2f}" if plain_rate else "-",
            ", ".join(f"{s:.2f}" for s in r.seconds),
        ]
        for r in results
    ]


def text_table(rows: list[list[str]], header: list[str] = HEADER) -> str:
    widths = [
        max(len(row[i]) for row in [header, *rows]) for i in range(len(header))
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(header), *(line(row) for row in rows)])


def markdown_table(rows: list[list[str]], header: list[str] = HEADER) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="runs of each variant on the dataset itself (default 3)",
    )
    parser.add_argument(
        "--scales",
        type=int,
        nargs="*",
        default=[2, 4, 8],
        metavar="N",
        help="also time Beam in_memory against multi_processing on the"
        " dataset replicated N times (default 2 4 8; none to skip)",
    )
    parser.add_argument(
        "--scale-repeats",
        type=int,
        help="runs of each variant per replicated dataset (default 3,"
        f" {LARGE_REPEATS} from {LARGE_IMAGES} images to save time)",
    )
    parser.add_argument(
        "--scale-loops",
        action="store_true",
        help="time the single-process loops on the replicated data too",
    )
    args = parser.parse_args()
    if not DATASET.is_dir():
        print(f"Skipping the ETL benchmark: {DATASET} not found.")
        return 0
    # Beam relays every worker's warnings; the timings are what matter.
    logging.getLogger("apache_beam").setLevel(logging.ERROR)
    description = machine()
    for key, value in description:
        print(f"- {key}: {value}")
    etl = load_config(REPO / "params.yaml").etl
    default_args = etl.beam_args
    threshold = etl.parallel_from_images
    images = len(list_images(DATASET))
    auto = auto_mode(default_args, images, threshold)
    print(f"- default Beam args (params.yaml): {' '.join(default_args)}")
    print(f"- parallel_from_images (params.yaml): {threshold}")
    print(f"- dataset: {DATASET}, splits {', '.join(SPLITS)}\n")
    candidates = variants(default_args, threshold, auto)
    warm_page_cache(DATASET)
    started = time.perf_counter()
    others: list[float] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-etl-") as scratch,
        CpuMonitor() as monitor,
    ):
        results = measure(
            candidates,
            DATASET,
            Path(scratch),
            args.repeats,
            monitor,
            others,
        )
        by_name = {r.name: r for r in results}
        scaled = [ScaleResult(1, by_name[IN_MEMORY], by_name[MULTI])]
        per_scale: list[tuple[int, list[Result]]] = []
        for scale in args.scales:
            scaled_images = images * scale
            repeats = args.scale_repeats or (
                LARGE_REPEATS if scaled_images >= LARGE_IMAGES else 3
            )
            print(
                f"\nScale {scale}: {scaled_images} images (symlinks),"
                f" {repeats} runs each; auto would pick"
                f" {auto_mode(default_args, scaled_images, threshold)}",
                flush=True,
            )
            data_dir = replicate(
                DATASET, scale, Path(scratch) / f"data-x{scale}"
            )
            group = scale_variants(default_args, threshold)
            if args.scale_loops:
                group = loop_variants() + group
            group_results = measure(
                group, data_dir, Path(scratch), repeats, monitor, others
            )
            shutil.rmtree(data_dir)
            named = {r.name: r for r in group_results}
            scaled.append(ScaleResult(scale, named[IN_MEMORY], named[MULTI]))
            per_scale.append((scale, group_results))
    minutes = (time.perf_counter() - started) / 60
    rows = table_rows(results)
    print(f"\nMedian of {args.repeats} runs each:\n")
    print(text_table(rows))
    print("\nMarkdown:\n")
    print(markdown_table(rows))
    if len(scaled) > 1:
        rows = scale_rows(scaled)
        print(
            "\nBeam in_memory against multi_processing by data size"
            " (medians; ratio = multi_processing s / in_memory s, below 1"
            " means multi_processing is faster; per-repeat ratios pair the"
            " two runs of each repeat; scale 1 is from the table above):\n"
        )
        print(text_table(rows, SCALE_HEADER))
        print("\nMarkdown:\n")
        print(markdown_table(rows, SCALE_HEADER))
        print(f"\n{crossover(scaled)}")
    if args.scale_loops:
        for scale, group_results in per_scale:
            print(f"\nScale {scale}, medians:\n")
            print(text_table(table_rows(group_results)))
    print(
        "\nCPU taken by other programs during the timed runs (cores of"
        f" {os.cpu_count()}): median {statistics.median(others):.2f},"
        f" max {max(others):.2f}"
    )
    print(f"\nTimed runs took {minutes:.1f} minutes in all.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
