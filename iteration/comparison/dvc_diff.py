"""`dvc metrics diff` and `dvc plots diff` of two runs that are git
revisions (or the working tree)."""

import dataclasses
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from iteration.comparison.runs import RunRef

_DVC = str(Path(sys.executable).with_name("dvc"))  # beside this Python
PLOTS_PAGE = "index.html"  # what `dvc plots diff -o FOLDER` writes


@dataclasses.dataclass(frozen=True)
class DvcDiff:
    # file → metric → {"old", "new", "diff"}, as `dvc metrics diff --json`
    metrics: dict[str, dict[str, dict[str, Any]]]
    plots: str  # the page `dvc plots diff` wrote, "" if none
    note: str  # why there is no diff, or what DVC said; "" if none


def dvc_diff(
    a: RunRef, b: RunRef, *, metrics_file: str | Path, plots_dir: str | Path
) -> DvcDiff:
    """DVC's diffs of A and B, run in the DVC repository around
    `metrics_file`; the plots go to `plots_dir`. Where A or B is not a
    revision, or DVC fails, the DvcDiff says so in its note."""
    unversioned = [ref.name for ref in (a, b) if ref.revision is None]
    if unversioned:
        return DvcDiff(
            {},
            "",
            f"{' and '.join(unversioned)}: not a git revision (nor the run"
            " in the working tree's metrics.json), so no dvc metrics diff"
            " or dvc plots diff; compare data versions for them, e.g."
            " dcp compare data-v1 data-v2",
        )
    root = _dvc_root(Path(metrics_file).parent)
    if root is None:
        return DvcDiff({}, "", f"{metrics_file} is not in a DVC repository")
    revisions = (str(a.revision), str(b.revision))
    logging.info("dvc metrics diff and dvc plots diff of %s %s", *revisions)
    metrics = _dvc(root, "metrics", "diff", *revisions, "--all", "--json")
    Path(plots_dir).mkdir(parents=True, exist_ok=True)
    plots = _dvc(root, "plots", "diff", *revisions, "-o", str(plots_dir))
    page = Path(plots_dir) / PLOTS_PAGE
    return DvcDiff(
        metrics=json.loads(metrics.stdout or "{}")
        if metrics.returncode == 0
        else {},
        plots=str(page) if plots.returncode == 0 and page.is_file() else "",
        note="; ".join(
            # DVC's first line is the error; then it offers support.
            f"dvc {' '.join(result.args[1:3])} failed:"
            f" {(result.stderr.strip() or 'no message').splitlines()[0]}"
            for result in (metrics, plots)
            if result.returncode != 0
        ),
    )


def _dvc_root(folder: Path) -> Path | None:
    return next(
        (p for p in (folder, *folder.parents) if (p / ".dvc").is_dir()), None
    )


def _dvc(root: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_DVC, *arguments],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
