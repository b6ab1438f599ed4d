"""Fingerprints of the code each pipeline step runs, for the TFX cache.

TFX reuses an earlier execution when a component's inputs and parameters
are unchanged; it does not look at the code the component runs (our
component functions, `preprocessing_fn`, `run_fn`). Every step that runs
our code takes a fingerprint of that code as a parameter, so after a
change it runs again instead of serving what older code made.

A step's fingerprint covers only the modules it imports, directly or
not: an edit to the report's page reruns the report, not the 100-epoch
training.
"""

import ast
import hashlib
from collections.abc import Iterator
from pathlib import Path

CODE_VERSION_KEY = "code_version"
# The packages whose code runs inside the pipeline's components.
_PACKAGES = ("components", "tasks", "core", "models")
# Folders of files a package reads at run time, e.g. the pages' templates.
_DATA_FOLDERS = ("templates", "static")
_ROOT = Path(__file__).resolve().parents[1]


def code_fingerprint(
    entry_module: str, root: Path = _ROOT, *, also: tuple[str, ...] = ()
) -> str:
    """16 hex digits of the SHA-256 of `entry_module` (dotted, e.g.
    "models.trainer") and of every module of those packages it imports,
    directly or not, as found in `root`; with those of the modules `also`
    names, which it runs without importing them by name (a task's
    package, reached through core.task.get_task)."""
    digest = hashlib.sha256()
    modules = set().union(
        *(imported_modules(name, root) for name in (entry_module, *also))
    )
    for module in sorted(modules):
        digest.update(module.relative_to(root).as_posix().encode())
        digest.update(module.read_bytes())
    return digest.hexdigest()[:16]


def imported_modules(
    entry_module: str,
    root: Path = _ROOT,
    *,
    packages: tuple[str, ...] = _PACKAGES,
) -> set[Path]:
    """The files of `entry_module` and of the `packages`' modules it
    imports, directly or not, with the packages' __init__.py files that
    importing them runs and the data files of those packages."""
    own = root.joinpath(*entry_module.split("."))
    if not (
        own.with_suffix(".py").is_file() or (own / "__init__.py").is_file()
    ):
        raise ValueError(f"{entry_module}: no such module under {root}")
    found: set[Path] = set()
    pending = [entry_module]
    while pending:
        for path in _files_of(pending.pop(), root, packages):
            if path not in found:
                found.add(path)
                pending += _imports(path)
    return found


def _files_of(name: str, root: Path, packages: tuple[str, ...]) -> list[Path]:
    """The module `name` (a file or a package), if ours, the
    __init__.py of each package above it and their data files."""
    parts = name.split(".")
    if parts[0] not in packages:
        return []
    files = [
        root.joinpath(*parts[:depth], "__init__.py")
        for depth in range(1, len(parts) + 1)
    ]
    files.append(root.joinpath(*parts).with_suffix(".py"))
    files += [
        data
        for init in files[:-1]
        for folder in _DATA_FOLDERS
        for data in sorted((init.parent / folder).rglob("*"))
    ]
    return [path for path in files if path.is_file()]


def _run_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """ast.walk, but not into `if TYPE_CHECKING:` blocks."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING"
        ):
            pending += node.orelse
            continue
        pending += ast.iter_child_nodes(node)


def _imports(path: Path) -> list[str]:
    """Dotted names a module imports; for `from a import b`, both a and
    a.b (b may be a module or a name in a). Imports under `if
    TYPE_CHECKING:` are left out: they never run."""
    if path.suffix != ".py":
        return []
    names = []
    for node in _run_nodes(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names
