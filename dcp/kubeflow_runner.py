"""Compile the pipeline for Kubeflow Pipelines 2, and submit it:

  python dcp/kubeflow_runner.py --image IMAGE [--output FILE]

The compiled file is a KFP PipelineJob (JSON) in which every step runs
`python -m dcp.kubeflow_entrypoint` (TFX's v2 container entrypoint, fixed
for the open-source KFP 2 backend) in IMAGE, built from ./Dockerfile.
The pipeline root, the ETL output and the serving folder must be
reachable from the pods: gs://, s3:// or a volume mounted at the same
path. Run it from the project folder: it reads ./params.yaml.
"""

import argparse
import dataclasses
import datetime
import json
import os
import tempfile
from collections.abc import Sequence
from typing import Any

import kfp
import urllib3
import yaml
from kfp_server_api.exceptions import ApiException

from dcp.config import Config, load_config

# Each step's command: see dcp/kubeflow_entrypoint.py.
STEP_COMMAND = ("python", "-m", "dcp.kubeflow_entrypoint")


def compile_pipeline(
    config: Config,
    *,
    image: str,
    output_file: str,
    pipeline_root: str | None = None,
    data_root: str | None = None,
    serving_dir: str | None = None,
    beam_pipeline_args: Sequence[str] = (),
) -> str:
    """Write the pipeline to `output_file` (*.json) as a PipelineJob whose
    steps all run in `image`; return `output_file`.

    `pipeline_root`, `data_root` (the ETL output) and `serving_dir` default
    to those of params.yaml; `beam_pipeline_args` come after its own.
    """
    if not output_file.endswith(".json"):
        raise ValueError(
            f"{output_file}: the compiled pipeline is a JSON PipelineJob;"
            " give the output a .json name"
        )
    # Imported here: TFX takes 15 s to import, and submit needs none of it.
    from tfx import v1 as tfx

    from core.dataset.etl.etl import EtlOutputError
    from dcp.from_params import pipeline_from_params

    config = dataclasses.replace(
        config,
        pipeline=dataclasses.replace(
            config.pipeline,
            root=pipeline_root or config.pipeline.root,
            serving_dir=serving_dir or config.pipeline.serving_dir,
        ),
    )
    data_root = data_root or config.etl.output
    try:
        pipeline = pipeline_from_params(
            config,
            metadata_connection_config=None,  # Kubeflow provides MLMD
            data_root=data_root,
            beam_pipeline_args=beam_pipeline_args,
            # The KFP 2 backend has no resolver executor ("resolver
            # executors not implemented"): min_accuracy alone judges.
            compare_with_blessed=False,
        )
    except EtlOutputError as error:
        raise ValueError(
            f"{error}.\nThe compile reads classes.json from the ETL output"
            " (--data-root) to fix the class list in the spec, so this"
            f" machine must read {data_root}: run `dcp etl --output"
            f" {data_root}` first, give a --data-root it can read, or for"
            " gs:// check the network and the credentials (`gcloud auth"
            " application-default login`)."
        ) from None
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
            default_image=image,
            default_commands=list(STEP_COMMAND),
            # Schema 2.0 writes parameters as `constantValue`, which only
            # Vertex AI reads; the KFP backend's driver reads `constant`.
            use_pipeline_spec_2_1=True,
        ),
        output_dir=os.path.dirname(output_file) or None,
        output_filename=os.path.basename(output_file),
    )
    runner.run(pipeline)
    return output_file


def submit(
    package_file: str,
    *,
    endpoint: str,
    run_name: str | None = None,
    experiment: str | None = None,
    timeout: float = 10.0,
) -> str:
    """Start a run of a compiled pipeline on the Kubeflow Pipelines API at
    `endpoint` (e.g. http://localhost:8080); return the run id.

    `run_name` defaults to the pipeline name and the time, `experiment`
    to KFP's "Default". The API must answer within `timeout` seconds.
    """
    job = read_pipeline_job(package_file)
    _check_endpoint(endpoint, timeout)
    now = f"{datetime.datetime.now():%Y-%m-%d %H-%M-%S}"
    # kfp 2.5 takes a bare PipelineSpec from a .yaml (or a .zip or .tar.gz
    # holding one) and refuses a .json: pass it the PipelineJob's spec, and
    # the pipeline root of its runtimeConfig as a run option.
    with tempfile.TemporaryDirectory() as folder:
        spec_file = os.path.join(folder, "pipeline.yaml")
        with open(spec_file, "w") as file:
            yaml.safe_dump(job["pipelineSpec"], file)
        return _create_run(
            endpoint,
            spec_file,
            run_name=run_name or f"{job['displayName']} {now}",
            experiment_name=experiment,
            pipeline_root=job["runtimeConfig"]["gcsOutputDirectory"],
        )


_CHECK_ENDPOINT = (
    "check --endpoint, e.g. after `kubectl port-forward -n kubeflow"
    " svc/ml-pipeline-ui 8080:80` it is http://localhost:8080"
)


def _check_endpoint(endpoint: str, timeout: float) -> None:
    """Fail fast unless the Kubeflow Pipelines API at `endpoint` answers its
    health check within `timeout` seconds: kfp's client has no timeout,
    and retries a failed health check for 25 s."""
    url = f"{endpoint.rstrip('/')}/apis/v2beta1/healthz"
    try:
        response = urllib3.PoolManager().request(
            "GET", url, timeout=timeout, retries=False
        )
    # Before TimeoutError: urllib3 1.26 makes a refused connection one.
    except urllib3.exceptions.NewConnectionError as error:
        raise ValueError(
            f"{endpoint}: cannot reach Kubeflow Pipelines"
            f" ({error.args[0].split(': ', 1)[-1]}); {_CHECK_ENDPOINT}"
        ) from None
    except urllib3.exceptions.TimeoutError:
        raise ValueError(
            f"{endpoint}: Kubeflow Pipelines did not answer within"
            f" {timeout:g} s; {_CHECK_ENDPOINT}, or wait longer with"
            " --timeout SECONDS"
        ) from None
    except urllib3.exceptions.HTTPError as error:
        raise ValueError(
            f"{endpoint}: cannot reach Kubeflow Pipelines ({error});"
            f" {_CHECK_ENDPOINT}"
        ) from None
    if response.status != 200:
        raise ValueError(
            f"{endpoint}: not a Kubeflow Pipelines API: GET {url} answered"
            f" {response.status}; {_CHECK_ENDPOINT}"
        )


def _create_run(endpoint: str, spec_file: str, **options: Any) -> str:
    try:
        client = kfp.Client(host=endpoint)
        run = client.create_run_from_pipeline_package(spec_file, **options)
    except ApiException as error:
        body = error.body or ""  # the API client decoded it
        raise ValueError(
            f"{endpoint}: Kubeflow Pipelines answered {error.status}"
            f" {error.reason} {body}".rstrip()
        ) from None
    except urllib3.exceptions.HTTPError as error:
        raise ValueError(
            f"{endpoint}: cannot reach Kubeflow Pipelines ({error});"
            f" {_CHECK_ENDPOINT}"
        ) from None
    return str(run.run_id)


def read_pipeline_job(path: str) -> dict[str, Any]:
    """The PipelineJob that compile_pipeline wrote to `path`, as a dict."""
    fix = "compile it with `dcp kubeflow compile --image IMAGE`"
    try:
        with open(path) as file:
            job = json.load(file)
    except FileNotFoundError:
        raise ValueError(f"{path}: not found; {fix}") from None
    except json.JSONDecodeError:
        job = None
    if not isinstance(job, dict) or "pipelineSpec" not in job:
        raise ValueError(f"{path}: not a compiled PipelineJob; {fix}")
    return job


def run(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Compile the pipeline into a Kubeflow PipelineJob."
    )
    parser.add_argument("--image", required=True, help="the steps' image")
    parser.add_argument("--output", help="default: <pipeline name>.json")
    parser.add_argument("--params", default="params.yaml")
    args = parser.parse_args(argv)
    config = load_config(args.params)
    output = compile_pipeline(
        config,
        image=args.image,
        output_file=args.output or f"{config.pipeline.name}.json",
    )
    print(
        f"Kubeflow pipeline written to {output}; its steps run {args.image}."
    )


if __name__ == "__main__":
    run()
