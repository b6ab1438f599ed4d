"""The user's folder is the annotation: `split/class/file`. Where a file
goes when `dcp fix` relabels or removes it, or `dcp augment` copies it."""

from pathlib import PurePosixPath

from core.findings.finding import RELABEL


def fixed_path(
    path: PurePosixPath, action: str, label: str, trash: PurePosixPath
) -> PurePosixPath:
    """A relabelled file moves to its new class folder, a removed one
    into `trash` under its own path."""
    if action == RELABEL:
        return PurePosixPath(path.parts[0], label, path.name)
    return trash / path


def fix_reason(path: PurePosixPath, action: str, label: str, why: str) -> str:
    """The data version's note of one fix to `path`."""
    if action == RELABEL:
        return f"relabelled {path.parts[1]} → {label}: {why}"
    return f"removed: {why}"


def augmented_path(parent: PurePosixPath, n: int) -> PurePosixPath:
    """<parent name>_aug<n>.png beside the parent: in its class folder,
    so the copy keeps the parent's label."""
    return parent.with_name(f"{parent.stem}_aug{n}.png")
