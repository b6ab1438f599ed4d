"""Which pipeline runs a comparison names: a run id, `latest`,
`previous`, or a git revision (e.g. `data-v1`, `HEAD~1`) whose committed
metrics.json records the run that produced it."""

import dataclasses
import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

LATEST = "latest"
PREVIOUS = "previous"  # the run before the latest
# DVC's name for the files as they are, not as committed.
WORKSPACE = "workspace"


@dataclasses.dataclass(frozen=True)
class RunRef:
    name: str  # as asked: a run id, latest, previous or a git revision
    run_id: str  # the TFX pipeline run
    # What `dvc metrics diff` calls it: the git revision, WORKSPACE when
    # the working tree's metrics.json is this run's, else None.
    revision: str | None


def resolve_run(
    name: str,
    *,
    runs: Sequence[str],
    complete_runs: Sequence[str],
    metrics_file: str | Path,
) -> RunRef:
    """The run `name` stands for. `runs` are the pipeline's run ids,
    oldest first; `complete_runs` those with every output a comparison
    reads (latest and previous are chosen among them); `metrics_file` is
    the project's metrics.json, the one git revisions hold."""
    metrics_file = Path(metrics_file)
    if name in (LATEST, PREVIOUS):
        needed = 1 if name == LATEST else 2
        if len(complete_runs) < needed:
            finished = ", ".join(complete_runs) or "none"
            raise ValueError(
                f"{name}: the pipeline has {len(complete_runs)} finished"
                f" run(s) ({finished}); compare the latest run with itself"
                " (dcp compare latest latest) or change the data and run"
                " dcp pipeline again"
            )
        run_id = complete_runs[-needed]
        return RunRef(name, run_id, _workspace(run_id, metrics_file))
    if name in runs:
        return RunRef(name, name, _workspace(name, metrics_file))
    if not is_revision(name, metrics_file.parent):
        raise ValueError(
            f"{name!r} is neither a run of the pipeline nor a git revision:"
            f" give {LATEST}, {PREVIOUS}, a run id (the latest are"
            f" {', '.join(runs[-3:]) or 'none'}) or a revision such as"
            " data-v1"
        )
    run_id = recorded_run(name, metrics_file)
    if run_id not in runs:
        raise ValueError(
            f"{name}: its {metrics_file.name} records run {run_id}, which"
            " is not in this project's metadata store; bring that version"
            f" back (git checkout {name} && dvc checkout) and run dcp"
            " pipeline"
        )
    return RunRef(name, run_id, name)


def is_revision(name: str, folder: str | Path) -> bool:
    """`name` is a commit of the git repository around `folder`."""
    return (
        _git(folder, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}")
        is not None
    )


def recorded_run(revision: str, metrics_file: str | Path) -> str:
    """The run id that the metrics.json committed at `revision` records."""
    metrics_file = Path(metrics_file)
    committed = _git(
        metrics_file.parent, "show", f"{revision}:./{metrics_file.name}"
    )
    if committed is None:
        raise ValueError(
            f"{revision}: no {metrics_file.name} committed there; give a"
            " revision that committed a run's metrics (e.g. after dvc"
            " repro), or a run id"
        )
    run_id = json.loads(committed).get("run_id")
    if not isinstance(run_id, str):
        raise ValueError(
            f"{revision}: its {metrics_file.name} records no run id (it"
            " was written before dcp pipeline recorded them); give the"
            " run id instead"
        )
    return run_id


def _workspace(run_id: str, metrics_file: Path) -> str | None:
    if not metrics_file.is_file():
        return None
    recorded = json.loads(metrics_file.read_text()).get("run_id")
    return WORKSPACE if recorded == run_id else None


def _git(folder: str | Path, *arguments: str) -> str | None:
    """git's output, or None where it fails (no repository, no such
    revision or file)."""
    result = subprocess.run(
        ["git", *arguments],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout if result.returncode == 0 else None
