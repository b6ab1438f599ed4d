"""Imports point one way, down the layers:

  dcp → iteration, prediction → pipeline → components → core → models

A module imports packages of its own layer and of the layers below it,
never one above: so each layer reads without the ones on top of it.
Every import counts, those inside functions too. And components/ holds
TFX components only, one subpackage each; what they share with the
layers above lives in core/.
"""

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

# Each of our packages and its layer; a module may import a package of
# its own layer or a lower one.
LAYERS = {
    "dcp": 5,
    "iteration": 4,
    "prediction": 4,
    "pipeline": 3,
    "components": 2,
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


def upward_imports(package: str, root: Path = REPO) -> list[str]:
    """Each import in `package` of a package above its layer, as
    "path:line imports name"."""
    wrong = []
    for path in sorted((root / package).rglob("*.py")):
        for line, name in imports(path, root):
            imported = name.split(".")[0]
            if LAYERS.get(imported, -1) > LAYERS[package]:
                where = path.relative_to(root).as_posix()
                wrong.append(f"{where}:{line} imports {name}")
    return wrong


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
