"""What the commands that change the image folder (fix, augment,
autolabel) share: the folder they act on when --data does not name it
(the folder of the run they act on, as its ETL output records it), and
how long they wait for another writer."""

import argparse
from pathlib import Path


class NoImageFolder(ValueError):
    """Neither a run nor etl.data names an existing image folder."""


def add_wait_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help="while another dcp command changes the same data, wait at"
        " most this long, then give up (default: wait until it is done)",
    )


def image_folder(data_root: str | None, default: str) -> str:
    """The folder the ETL output `data_root` was converted from; else
    `default` (etl.data) if it exists; else NoImageFolder."""
    from core.dataset.etl.etl import read_data_dir

    if data_root:
        try:
            converted = read_data_dir(data_root)
        except (ValueError, KeyError):  # gone, or from before summary.json
            converted = ""
        if converted and Path(converted).is_dir():
            return converted
    if Path(default).is_dir():
        return default
    raise NoImageFolder(
        "no image folder: pass --data DIR (the folder you gave dcp run --data)"
    )


def latest_run_folder(
    metadata: str, default: str, pipeline_name: str | None = None
) -> str:
    """The image folder (see image_folder) of the latest run of
    `pipeline_name`, or of any pipeline: the one `dcp run --data DIR`
    made last, whichever folder it was."""
    return image_folder(latest_data_root(metadata, pipeline_name), default)


def latest_data_root(metadata: str, pipeline_name: str | None) -> str | None:
    """The ETL output the latest run of `pipeline_name` (None: of any
    pipeline) in the MLMD store `metadata` read; None without one."""
    from ml_metadata import metadata_store

    from pipeline.run_results import existing_store, run_data_root

    try:
        connection = existing_store(metadata)
    except ValueError:  # no store: no run yet
        return None
    store = metadata_store.MetadataStore(connection)
    runs = [
        (run.create_time_since_epoch, pipeline.name, run.name)
        for run in store.get_contexts_by_type("pipeline_run")
        for pipeline in store.get_parent_contexts_by_context(run.id)[:1]
        if pipeline_name in (None, pipeline.name)
    ]
    if not runs:
        return None
    _, name, run_id = max(runs)
    try:
        return run_data_root(connection, name, run_id)
    except ValueError:  # it read no data, or its ETL output is gone
        return None
