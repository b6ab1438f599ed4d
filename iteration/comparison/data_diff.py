"""What changed in the data between two runs: images per class and
split, and the image files added, removed, changed or moved."""

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence

SPLIT_ORDER = ("train", "val", "test")

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"  # the same path, other bytes
MOVED = "moved"  # the same bytes, another path: relabelled or resplit
CHANGE_KINDS = (ADDED, REMOVED, CHANGED, MOVED)


@dataclasses.dataclass(frozen=True)
class CountRow:
    split: str  # the ETL's split folder
    label: str
    a: int
    b: int

    @property
    def change(self) -> int:
        return self.b - self.a


@dataclasses.dataclass(frozen=True)
class FileChange:
    kind: str  # one of CHANGE_KINDS
    path_a: str  # "" when added
    path_b: str  # "" when removed
    sha256_a: str
    sha256_b: str


def count_rows(
    a: Mapping[str, Mapping[str, int]],
    b: Mapping[str, Mapping[str, int]],
    class_names: Sequence[str],
) -> list[CountRow]:
    """Images per split and class (split → class → images) of both
    runs, splits in train, val, test order, classes in `class_names`
    order; classes and splits only one run has are included."""
    splits = {*a, *b}
    ordered_splits = [s for s in SPLIT_ORDER if s in splits]
    ordered_splits += sorted(splits - set(SPLIT_ORDER))
    rows = []
    for split in ordered_splits:
        in_a, in_b = a.get(split, {}), b.get(split, {})
        labels = [*class_names]
        labels += sorted({*in_a, *in_b} - set(class_names))
        rows += [
            CountRow(split, label, in_a.get(label, 0), in_b.get(label, 0))
            for label in labels
        ]
    return rows


def data_changes(
    a: Mapping[str, str], b: Mapping[str, str]
) -> list[FileChange]:
    """The image files of B against A (each path → sha256), by kind in
    CHANGE_KINDS order, then by path. A file found at another path with
    the same bytes is moved; copies pair up in path order."""
    changed = [
        FileChange(CHANGED, path, path, a[path], b[path])
        for path in sorted(a.keys() & b.keys())
        if a[path] != b[path]
    ]
    gone = _by_hash({path: a[path] for path in a.keys() - b.keys()})
    new = _by_hash({path: b[path] for path in b.keys() - a.keys()})
    moved, added, removed = [], [], []
    for sha256 in gone.keys() | new.keys():
        paths_a, paths_b = gone.get(sha256, []), new.get(sha256, [])
        pairs = min(len(paths_a), len(paths_b))
        moved += [
            FileChange(MOVED, path_a, path_b, sha256, sha256)
            for path_a, path_b in zip(paths_a, paths_b, strict=False)
        ]
        removed += [
            FileChange(REMOVED, path, "", sha256, "")
            for path in paths_a[pairs:]
        ]
        added += [
            FileChange(ADDED, "", path, "", sha256) for path in paths_b[pairs:]
        ]
    return [
        *sorted(added, key=lambda c: c.path_b),
        *sorted(removed, key=lambda c: c.path_a),
        *changed,
        *sorted(moved, key=lambda c: c.path_a),
    ]


def _by_hash(files: Mapping[str, str]) -> dict[str, list[str]]:
    paths: dict[str, list[str]] = defaultdict(list)
    for path in sorted(files):
        paths[files[path]].append(path)
    return paths
