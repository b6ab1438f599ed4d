"""Imports point one way, down the layers:

  dcp → iteration, prediction → pipeline → components → tasks → core
      → models

A module imports packages of its own layer and of the layers below it,
never one above: so each layer reads without the ones on top of it.
Every import counts, those inside functions too. And components/ holds
TFX components only, one subpackage each; what they share with the
layers above lives in core/. And no module outside tasks/ names a task:
the shared code asks core.task.get_task for the one params.yaml names.
"""

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO

# Each of our packages and its layer; a module may import a package of
# its own layer or a lower one.
LAYERS = {
    "dcp": 6,
    "iteration": 5,
    "prediction": 5,
    "pipeline": 4,
    "components": 3,
    "tasks": 2,
    "core": 1,
    "models": 0,
}
# The modules of components/ beside its component subpackages: the
# typed decorator the components are written with.
COMPONENT_HELPERS = {"__init__.py", "function_component.py"}


def imports(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in the module at `path`, with
    relative imports made absolute."""
    package = path.relative_to(root).with_suffix("").parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # `from .. import x` in a/b/c.py is `from a import x`.
            up = len(package) + 1 - node.level if node.level else 0
            name = ".".join([*package[:up], *filter(None, [node.module])])
            found.append((node.lineno, name))
    return found


def imports_of(
    package: str, wrong: Callable[[str], bool], root: Path
) -> list[str]:
    """Each import in `package` of a package `wrong` is true of, as
    "path:line imports name"."""
    found = []
    for path in sorted((root / package).rglob("*.py")):
        for line, name in imports(path, root):
            if wrong(name.split(".")[0]):
                where = path.relative_to(root).as_posix()
                found.append(f"{where}:{line} imports {name}")
    return found


def upward_imports(package: str, root: Path = REPO) -> list[str]:
    """Each import in `package` of a package above its layer."""
    return imports_of(
        package, lambda name: LAYERS.get(name, -1) > LAYERS[package], root
    )


@pytest.mark.parametrize("package", LAYERS)
def test_a_package_imports_no_layer_above_it(package):
    assert list((REPO / package).rglob("*.py")), f"{package}/ has no code"
    allowed = [name for name in LAYERS if LAYERS[name] <= LAYERS[package]]
    wrong = upward_imports(package)
    assert not wrong, (
        f"{package}/ may import only {', '.join(allowed)} of our packages:"
        + "".join(f"\n  {line}" for line in wrong)
    )


def test_an_upward_import_inside_a_function_is_found(tmp_path):
    for package in LAYERS:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "components" / "sub").mkdir()
    (tmp_path / "components" / "sub" / "bad.py").write_text(
        "import models.features\n"
        "from . import fine\n"
        "def late():\n"
        "    from pipeline.run_results import read_results\n"
    )
    (tmp_path / "pipeline" / "bad.py").write_text("import dcp.cli\n")
    assert upward_imports("components", tmp_path) == [
        "components/sub/bad.py:4 imports pipeline.run_results"
    ]
    (tmp_path / "core" / "bad.py").write_text("import components.sub\n")
    assert upward_imports("core", tmp_path) == [
        "core/bad.py:1 imports components.sub"
    ]
    assert upward_imports("pipeline", tmp_path) == [
        "pipeline/bad.py:1 imports dcp.cli"
    ]
    assert upward_imports("dcp", tmp_path) == []


def task_imports(root: Path = REPO) -> list[str]:
    """Each import of a task's package outside tasks/."""
    return [
        found
        for package in LAYERS
        if package != "tasks"
        for found in imports_of(package, lambda name: name == "tasks", root)
    ]


def test_only_the_tasks_name_a_task():
    wrong = task_imports()
    assert not wrong, (
        "the shared code reaches a task through core.task.get_task:"
        + "".join(f"\n  {line}" for line in wrong)
    )


def test_an_import_of_a_task_is_found(tmp_path):
    for package in LAYERS:
        (tmp_path / package).mkdir()
    (tmp_path / "components" / "bad.py").write_text(
        "from tasks.classification import drawing\n"
    )
    (tmp_path / "tasks" / "fine.py").write_text(
        "import tasks.classification\n"
    )
    assert task_imports(tmp_path) == [
        "components/bad.py:1 imports tasks.classification"
    ]


def defines_a_component(module: Path) -> bool:
    """Whether `module` defines a function decorated with @component."""
    return any(
        isinstance(node, ast.FunctionDef)
        and any(
            isinstance(d, ast.Name) and d.id == "component"
            for d in node.decorator_list
        )
        for node in ast.parse(module.read_bytes(), str(module)).body
    )


def not_components(root: Path = REPO) -> list[str]:
    """What in components/ is neither a component subpackage (one with
    a component.py defining a @component) nor a COMPONENT_HELPERS
    module."""
    wrong = []
    for path in sorted((root / "components").iterdir()):
        if path.name == "__pycache__":
            continue
        if path.is_dir():
            module = path / "component.py"
            if not (module.is_file() and defines_a_component(module)):
                wrong.append(f"components/{path.name}/: no component.py")
        elif path.suffix == ".py" and path.name not in COMPONENT_HELPERS:
            wrong.append(f"components/{path.name}: not a component")
    return wrong


def test_components_holds_only_tfx_components():
    wrong = not_components()
    assert not wrong, (
        "components/ holds TFX components only; shared code goes to"
        " core/:" + "".join(f"\n  {line}" for line in wrong)
    )


def test_a_library_module_in_components_is_found(tmp_path):
    (tmp_path / "components" / "good").mkdir(parents=True)
    (tmp_path / "components" / "good" / "component.py").write_text(
        "@component\ndef Good():\n    pass\n"
    )
    (tmp_path / "components" / "shared").mkdir()
    (tmp_path / "components" / "shared" / "__init__.py").write_text("")
    (tmp_path / "components" / "__init__.py").write_text("")
    (tmp_path / "components" / "tables.py").write_text("")
    assert not_components(tmp_path) == [
        "components/shared/: no component.py",
        "components/tables.py: not a component",
    ]
