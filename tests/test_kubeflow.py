"""Kubeflow without a cluster: compile the pipeline into a PipelineJob and
read it back, run it locally up to a task that fails, and submit it to a
fake Kubeflow Pipelines API on loopback. The whole spec run through
`dcp kubeflow run-local` is in test_pipeline_e2e."""

import contextlib
import dataclasses
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import tensorflow as tf
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx import v1 as tfx
from tfx.dsl.io import fileio

from dcp import cli
from dcp.config import Config, load_config
from dcp.from_params import pipeline_from_params
from dcp.kubeflow_runner import compile_pipeline, submit
from tests.conftest import REPO

IMAGE = "registry.example/dcp:test"
EXECUTOR = ["python", "-m", "dcp.kubeflow_entrypoint"]


@dataclasses.dataclass(frozen=True)
class Compiled:
    config: Config
    file: Path
    root: Path
    data_root: Path
    job: pipeline_spec_pb2.PipelineJob
    spec: pipeline_spec_pb2.PipelineSpec

    @property
    def executors(self) -> dict[str, Any]:
        deployment = json_format.MessageToDict(self.spec.deployment_spec)
        return deployment["executors"]

    def parameter(self, task: str, name: str) -> Any:
        value = self.spec.root.dag.tasks[task].inputs.parameters[name]
        return json_format.MessageToDict(value.runtime_value.constant)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> Compiled:
    tmp = tmp_path_factory.mktemp("kubeflow")
    # An ETL output as compile sees it: it reads classes.json and which
    # split folders exist; only the pods read the records.
    data_root = tmp / "tfrecords"
    for folder in ("train", "val", "test"):
        (data_root / folder).mkdir(parents=True)
    (data_root / "classes.json").write_text(json.dumps(list("0123456789")))
    config = load_config(REPO / "params.yaml")
    config = dataclasses.replace(
        config,
        etl=dataclasses.replace(config.etl, output=str(data_root)),
        pipeline=dataclasses.replace(
            config.pipeline, root=str(tmp / "params-root")
        ),
    )
    root = tmp / "root"
    file = compile_pipeline(
        config,
        image=IMAGE,
        output_file=str(tmp / "digits.json"),
        pipeline_root=str(root),
    )
    job = json_format.Parse(
        Path(file).read_text(), pipeline_spec_pb2.PipelineJob()
    )
    spec = json_format.ParseDict(
        json_format.MessageToDict(job.pipeline_spec),
        pipeline_spec_pb2.PipelineSpec(),
    )
    return Compiled(config, Path(file), root, data_root, job, spec)


def test_the_file_is_a_pipeline_job_rooted_where_asked(compiled):
    assert compiled.job.display_name == compiled.config.pipeline.name
    assert compiled.spec.pipeline_info.name == compiled.config.pipeline.name
    # The argument wins over params.yaml; the ETL output comes from it.
    assert compiled.job.runtime_config.gcs_output_directory == str(
        compiled.root
    )
    assert compiled.parameter("ImportExampleGen", "input_base") == str(
        compiled.data_root
    )


def test_the_spec_holds_every_component_but_the_resolver(compiled):
    pipeline = pipeline_from_params(
        compiled.config, metadata_connection_config=None
    )
    # KFP 2 runs no resolver step, so the DAG leaves it out there.
    expected = {
        node.id
        for node in pipeline.components
        if not isinstance(node, tfx.dsl.Resolver)
    }
    assert set(compiled.spec.root.dag.tasks) == expected
    # The data root has a test/ folder, so TestAccuracy is there too.
    assert {
        "Transform",
        "Trainer",
        "Evaluator",
        "TFLiteExport",
        "TestAccuracy",
    } <= expected
    assert len(expected) == len(pipeline.components) - 1


def test_every_container_runs_our_tfx_entrypoint_in_the_image(compiled):
    containers = {
        name: executor["container"]
        for name, executor in compiled.executors.items()
        if "container" in executor
    }
    assert len(containers) == len(compiled.spec.root.dag.tasks)
    for name, container in containers.items():
        assert container["image"] == IMAGE, name
        assert container["command"] == EXECUTOR, name
        assert "env" not in container, name  # why the image sets them


def test_models_are_dotted_paths_and_no_wheel_is_built(compiled):
    assert (
        compiled.parameter("Transform", "preprocessing_fn")
        == "models.preprocessing.preprocessing_fn"
    )
    assert compiled.parameter("Trainer", "run_fn") == "models.trainer.run_fn"
    assert "module_file" not in compiled.file.read_text()
    assert "_wheels" not in compiled.file.read_text()
    assert not (compiled.root / "_wheels").exists()


def test_parameters_are_constants_the_kfp_backend_reads(compiled):
    # Schema 2.0 writes `constantValue`, which only Vertex AI reads: the
    # KFP backend's driver (backend/src/v2/driver) reads `constant` alone.
    assert compiled.spec.schema_version == "2.1.0"
    kinds = {
        parameter.runtime_value.WhichOneof("value")
        for task in compiled.spec.root.dag.tasks.values()
        for parameter in task.inputs.parameters.values()
        if parameter.HasField("runtime_value")
    }
    assert kinds == {"constant"}


def test_the_output_must_be_json(compiled, tmp_path):
    with pytest.raises(ValueError, match=r"digits\.yaml: .*\.json name"):
        compile_pipeline(
            compiled.config,
            image=IMAGE,
            output_file=str(tmp_path / "digits.yaml"),
        )
    assert not (tmp_path / "digits.yaml").exists()


def compile_cli(data_root: str, output: Path) -> list[str]:
    return [
        *("--params", str(REPO / "params.yaml"), "kubeflow", "compile"),
        *("--image", IMAGE, "--output", str(output), "--data-root", data_root),
    ]


def test_compile_says_why_it_needs_a_data_root_it_cannot_reach(
    tmp_path, monkeypatch, capsys
):
    def unreachable(path: str) -> bool:
        # What TF's gs:// filesystem raises without network.
        raise tf.errors.FailedPreconditionError(
            None,
            None,
            "Error executing an HTTP request: libcurl code 6 meaning"
            " 'Couldn't resolve host name', error details: Could not"
            f" resolve host: www.googleapis.com\n\t when reading {path}",
        )

    monkeypatch.setattr(fileio, "exists", unreachable)
    output = tmp_path / "digits.json"
    status = cli.main(compile_cli("gs://bucket/tfrecords", output))
    error = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in error
    assert error.startswith(
        "dcp kubeflow compile: error: gs://bucket/tfrecords/classes.json:"
        " cannot read it (Error executing an HTTP request: libcurl code 6"
    )
    assert "Could not resolve host: www.googleapis.com)" in error
    assert "when reading" not in error
    assert "reads classes.json from the ETL output" in error
    assert "to fix the class list in the spec" in error
    assert "`dcp etl --output gs://bucket/tfrecords` first" in error
    assert "credentials" in error
    assert not output.exists()


def test_compile_says_to_run_the_etl_into_a_missing_data_root(
    tmp_path, capsys
):
    missing = tmp_path / "tfrecords"
    status = cli.main(compile_cli(str(missing), tmp_path / "digits.json"))
    error = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in error
    assert f"{missing}/classes.json: not found; run `dcp etl`" in error
    assert f"`dcp etl --output {missing}` first" in error


# What kfp 2.5 asks to start a run in a new experiment, and the answers.
KFP_RESPONSES = {
    ("GET", "/apis/v2beta1/healthz"): (200, {"multi_user": False}),
    ("GET", "/apis/v2beta1/experiments"): (200, {}),  # none by that name
    ("POST", "/apis/v2beta1/experiments"): (200, {"experiment_id": "exp-1"}),
    ("POST", "/apis/v2beta1/runs"): (200, {"run_id": "run-1"}),
}


class FakeKfpApi(ThreadingHTTPServer):
    """Kubeflow Pipelines' REST API on loopback, as far as `responses` go;
    records each request."""

    def __init__(self, responses: dict[tuple[str, str], Any]) -> None:
        super().__init__(("127.0.0.1", 0), _FakeKfpHandler)
        self.responses = responses
        self.requests: list[tuple[str, str, Any]] = []

    @property
    def endpoint(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _FakeKfpHandler(BaseHTTPRequestHandler):
    server: FakeKfpApi

    def do_GET(self) -> None:
        self._reply()

    def do_POST(self) -> None:
        self._reply()

    def _reply(self) -> None:
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.server.requests.append((self.command, path, body))
        status, response = self.server.responses.get(
            (self.command, path), (404, {"error": "unknown"})
        )
        payload = json.dumps(response).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def fake_kfp_api(
    responses: dict[tuple[str, str], Any] = KFP_RESPONSES,
) -> Iterator[FakeKfpApi]:
    server = FakeKfpApi(responses)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_submit_starts_a_run_of_the_spec_under_its_root(compiled):
    with fake_kfp_api() as kfp_api:
        run_id = submit(
            str(compiled.file),
            endpoint=kfp_api.endpoint,
            run_name="smoke",
            experiment="digits-dev",
        )
    assert run_id == "run-1"
    posts = {
        path: body
        for method, path, body in kfp_api.requests
        if method == "POST"
    }
    assert posts["/apis/v2beta1/experiments"]["display_name"] == "digits-dev"
    run = posts["/apis/v2beta1/runs"]
    assert run["display_name"] == "smoke"
    assert run["experiment_id"] == "exp-1"
    assert run["runtime_config"]["pipeline_root"] == str(compiled.root)
    sent = json_format.ParseDict(
        run["pipeline_spec"], pipeline_spec_pb2.PipelineSpec()
    )
    assert sent == compiled.spec


def test_submit_names_a_file_that_is_not_a_compiled_pipeline(tmp_path):
    spec_only = tmp_path / "digits.yaml"
    spec_only.write_text("pipelineInfo: {name: digits}\n")
    for path in (spec_only, tmp_path / "missing.json"):
        with pytest.raises(ValueError, match="dcp kubeflow compile"):
            submit(str(path), endpoint="http://127.0.0.1:9")


def test_a_refused_run_is_a_value_error_with_the_reason(compiled):
    refused = (400, {"error": "resolver executors not implemented"})
    responses = {**KFP_RESPONSES, ("POST", "/apis/v2beta1/runs"): refused}
    with (
        fake_kfp_api(responses) as kfp_api,
        pytest.raises(ValueError) as error,
    ):
        submit(str(compiled.file), endpoint=kfp_api.endpoint)
    assert str(error.value).startswith(f"{kfp_api.endpoint}: ")
    assert "400" in str(error.value)
    assert "resolver executors not implemented" in str(error.value)


def test_submit_names_an_endpoint_nothing_answers(compiled):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(ValueError, match="cannot reach Kubeflow Pipelines"):
        submit(str(compiled.file), endpoint=endpoint)


def submit_cli(compiled: Compiled, endpoint: str, *options: str) -> list[str]:
    return [
        *("--params", str(REPO / "params.yaml"), "kubeflow", "submit"),
        *(str(compiled.file), "--endpoint", endpoint, *options),
    ]


def test_submit_to_a_refusing_endpoint_says_so_without_a_traceback(
    compiled, capsys
):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    assert cli.main(submit_cli(compiled, endpoint)) == 2
    error = capsys.readouterr().err
    assert "Traceback" not in error
    assert error.startswith(
        f"dcp kubeflow submit: error: {endpoint}: cannot reach Kubeflow"
        " Pipelines (Failed to establish a new connection: [Errno 111]"
        " Connection refused); check --endpoint"
    )


def test_submit_to_a_silent_endpoint_gives_up_after_the_timeout(
    compiled, capsys
):
    # The kernel accepts connections to a listening socket; nobody answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        status = cli.main(submit_cli(compiled, endpoint, "--timeout", "0.5"))
    error = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in error
    assert error.startswith(
        f"dcp kubeflow submit: error: {endpoint}: Kubeflow Pipelines did"
        " not answer within 0.5 s; check --endpoint"
    )
    assert error.rstrip().endswith("or wait longer with --timeout SECONDS")


def test_submit_to_something_else_than_kfp_names_what_it_answered(
    compiled, capsys
):
    with fake_kfp_api(responses={}) as other:  # 404 to every request
        status = cli.main(submit_cli(compiled, other.endpoint))
        asked = [(method, path) for method, path, _ in other.requests]
    error = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in error
    assert error.startswith(
        f"dcp kubeflow submit: error: {other.endpoint}: not a Kubeflow"
        f" Pipelines API: GET {other.endpoint}/apis/v2beta1/healthz"
        " answered 404"
    )
    assert asked == [("GET", "/apis/v2beta1/healthz")]  # once, no retries


def run_local_cli(file: Path, pipeline_root: str) -> list[str]:
    return [
        *("--params", str(REPO / "params.yaml"), "kubeflow", "run-local"),
        *(str(file), "--pipeline-root", pipeline_root),
    ]


def test_run_local_stops_at_the_failed_task_with_its_log(
    compiled, tmp_path, capsys
):
    # The compiled data root has its split folders but no records: the
    # first task's real executor fails on it.
    status = cli.main(run_local_cli(compiled.file, str(tmp_path)))
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out.startswith("[1/14] ImportExampleGen ...\n")
    error = captured.err
    assert error.startswith(
        "dcp kubeflow run-local: error: task ImportExampleGen failed"
        " (exit status 1); the end of its log "
    )
    (log,) = tmp_path.glob("digits/run-local-*/ImportExampleGen/1/log.txt")
    assert f" {log}:\n" in error
    assert "dcp.kubeflow_entrypoint" in log.read_text()  # what it ran
    assert "OSError: No files found based on the file pattern" in error


def test_run_local_wants_a_compiled_spec_and_a_local_root(
    compiled, tmp_path, capsys
):
    spec_only = tmp_path / "digits.yaml"
    spec_only.write_text("pipelineInfo: {name: digits}\n")
    assert cli.main(run_local_cli(spec_only, str(tmp_path))) == 2
    assert "dcp kubeflow compile" in capsys.readouterr().err
    assert cli.main(run_local_cli(compiled.file, "gs://bucket/tfx")) == 2
    assert capsys.readouterr().err.startswith(
        "dcp kubeflow run-local: error: gs://bucket/tfx: run-local writes"
        " the outputs on this machine; give a local folder as"
        " --pipeline-root"
    )
