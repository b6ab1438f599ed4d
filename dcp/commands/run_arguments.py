"""The options that pick a finished run, shared by the commands that
read one."""

import argparse


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run", dest="run_id", metavar="RUN", help="run id (default: latest)"
    )
    parser.add_argument(
        "--name",
        help="pipeline name (default: pipeline.name; for a dcp run --data"
        " DIR run, the folder's name)",
    )
