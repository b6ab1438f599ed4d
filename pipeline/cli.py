"""`dcp`: the command line of the data-centric pipeline."""

import os
import warnings

# Before TensorFlow loads, here and in Beam's worker processes: keep its
# C++ start-up chatter and the Google client libraries' deprecation
# notices out of the run's output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning")
warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.")

import argparse  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402

from pipeline.config import Config, ConfigError, load_config  # noqa: E402
from pipeline.console import configure_logging  # noqa: E402

EXAMPLES = """\
commands:
  prepare   write the embedded digits dataset with seeded defects
              dcp prepare
  etl       convert an image folder into TFRecords with Apache Beam
              dcp etl
              dcp etl --data ~/photos --output data/photos-tfrecords
              dcp etl --on-bad-file fail -- --runner=FlinkRunner

Defaults come from params.yaml; flags override them. Arguments after
`--` go to Apache Beam.
"""


def main(argv: Sequence[str] | None = None) -> int:
    args, beam_args = _parse(sys.argv[1:] if argv is None else list(argv))
    configure_logging()
    try:
        config = load_config(args.params)
        return int(args.run(args, config, beam_args) or 0)
    except (ConfigError, ValueError) as error:
        # Bad input: say what and how to fix it, without a stack trace.
        print(f"dcp {args.command}: error: {error}", file=sys.stderr)
        return 2


def _prepare(
    args: argparse.Namespace, config: Config, beam_args: list[str]
) -> None:
    from components.embedded_dataset.digits import write_embedded_dataset

    prepare = config.prepare
    output = args.output or prepare.output
    key = write_embedded_dataset(
        output,
        seed=prepare.seed,
        image_size=prepare.image_size,
        val_fraction=prepare.val_fraction,
        test_fraction=prepare.test_fraction,
        unlabeled_fraction=prepare.unlabeled_fraction,
        defects=prepare.defects,
    )
    injected = ", ".join(
        f"{len(v)} {k.replace('_', ' ')}"
        for k, v in key.items()
        if isinstance(v, list)
    )
    print(f"Embedded dataset written to {output}: injected {injected}.")
    print(f"  answer key: {output}/defects.json")


def _etl(
    args: argparse.Namespace, config: Config, beam_args: list[str]
) -> None:
    from components.image_etl.etl import run_etl

    etl = config.etl
    summary = run_etl(
        args.data or etl.data,
        args.output or etl.output,
        splits=tuple(args.splits.split(",")) if args.splits else etl.splits,
        on_bad_file=args.on_bad_file or etl.on_bad_file,
        images_per_shard=etl.images_per_shard,
        parallel_from_images=etl.parallel_from_images,
        beam_args=[*etl.beam_args, *beam_args],
    )
    print(summary.format())


def _parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    beam_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, beam_args = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(
        prog="dcp",
        description="Data-centric pipeline for image classifiers.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--params", default="params.yaml", help="parameters file"
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND"
    )
    prepare = commands.add_parser(
        "prepare", help="write the embedded dataset (dcp prepare)"
    )
    prepare.add_argument("--output", help="folder (default: params.yaml)")
    prepare.set_defaults(run=_prepare)
    etl = commands.add_parser(
        "etl",
        help="image folder → TFRecords (dcp etl --data DIR)",
        epilog="Beam options go after `--`, e.g."
        " dcp etl -- --runner=SparkRunner",
    )
    etl.add_argument("--data", help="image folder: split/class/image")
    etl.add_argument("--output", help="TFRecord folder")
    etl.add_argument("--splits", help="comma-separated, e.g. train,val")
    etl.add_argument(
        "--on-bad-file",
        choices=("skip", "fail"),
        help="skip: quarantine bad files and go on; fail: stop the run",
    )
    etl.set_defaults(run=_etl)
    return parser.parse_args(argv), beam_args


if __name__ == "__main__":
    sys.exit(main())
