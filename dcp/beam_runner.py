"""Run the pipeline with TFX's BeamDagRunner, metadata in SQLite; the
data-heavy components run on the Beam runner that params.yaml's
pipeline.beam_args and any extra arguments choose:

  python dcp/beam_runner.py [-- --runner=FlinkRunner ...]
  tfx pipeline create --engine beam --pipeline_path dcp/beam_runner.py
  tfx run create --engine beam --pipeline_name digits

Run it from the project folder: it reads ./params.yaml.
"""

# First, so that TensorFlow loads without its known noise
# (core/quiet_start.py): as a script, this file is not imported
# through dcp/__init__.py.
import components  # noqa: F401

# isort: split
import sys
from collections.abc import Sequence

from tfx import v1 as tfx
from tfx.orchestration.beam.beam_dag_runner import BeamDagRunner

from dcp.config import Config, load_config
from dcp.from_params import pipeline_from_params


def run_pipeline(
    config: Config,
    *,
    data_root: str | None = None,
    pipeline_name: str | None = None,
    beam_args: Sequence[str] = (),
) -> None:
    metadata = tfx.orchestration.metadata.sqlite_metadata_connection_config(
        config.pipeline.metadata
    )
    BeamDagRunner().run(
        pipeline_from_params(
            config,
            metadata_connection_config=metadata,
            data_root=data_root,
            pipeline_name=pipeline_name,
            beam_pipeline_args=beam_args,
        )
    )


if __name__ == "__main__":
    run_pipeline(load_config("params.yaml"), beam_args=sys.argv[1:])
