"""A real git + DVC repository of real digit scans, and a reviewed
issues.csv for it: what the tests of `dcp fix` build on."""

import hashlib
import subprocess
import sys
from pathlib import Path

from PIL import Image
from sklearn.datasets import load_digits

from core.dataset.embedded.digits import render_digit
from core.findings.finding import Finding
from core.findings.issues_csv import write_issues_csv
from core.findings.types import BROKEN_FILE

DVC = str(Path(sys.executable).with_name("dvc"))


def run(cwd: Path, *command: str) -> str:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path → sha256 of every file under `folder`."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(
            p.read_bytes()
        ).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def sha256(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()


def write_digits(folder: Path) -> None:
    """train and val folders of real digit scans of classes 0, 1, 2, a
    train image copied into val, and a broken file."""
    digits = load_digits()
    picked = {label: 0 for label in range(3)}
    for scan, label in zip(digits.images, digits.target, strict=False):
        if label not in picked or picked[label] >= 6:
            continue
        split = "train" if picked[label] < 4 else "val"
        path = folder / split / str(label) / f"{label}{picked[label]:02d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(render_digit(scan, 32)).save(path)
        picked[label] += 1
    (folder / "val" / "1" / "leak.png").write_bytes(
        (folder / "train" / "1" / "100.png").read_bytes()
    )
    (folder / "train" / "2" / "broken.png").write_bytes(b"not a png")


def git_dvc_repo(root: Path) -> Path:
    """`root` as a git + DVC project whose data/images folder of
    write_digits is `dvc add`ed and committed."""
    write_digits(root / "data" / "images")
    run(root, "git", "init", "-q")
    run(root, "git", "config", "user.email", "test@example.com")
    run(root, "git", "config", "user.name", "test")
    run(root, DVC, "init", "-q")
    run(root, DVC, "add", "-q", "data/images")
    run(root, "git", "add", "-A")
    run(root, "git", "commit", "-qm", "images")
    return root


def finding(folder: Path, path: str, issue: str, score: float, **kw):
    file = folder / path
    return Finding(
        path=path,
        sha256=sha256(file) if issue != BROKEN_FILE else "",
        split=path.split("/")[0],
        issue=issue,
        score=score,
        given_label=path.split("/")[1],
        **kw,
    )


def issues_csv(repo: Path, findings, actions: dict[str, str]) -> Path:
    """An issues.csv as the report writes it, with reviewed actions."""
    path = repo / "issues.csv"
    write_issues_csv(findings, str(path))
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    column = header.index("action")
    reviewed = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[column] = actions.get(cells[0], "")
        reviewed.append(",".join(cells))
    path.write_text("\n".join(reviewed) + "\n")
    return path
