"""Imports point one way, down the layers:

  dcp → iteration, prediction → pipeline → components, models

A module imports packages of its own layer and of the layers below it,
never one above: so each layer reads without the ones on top of it.
Every import counts, those inside functions too.
"""

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

# Each of our packages and its layer; a module may import a package of
# its own layer or a lower one.
LAYERS = {
    "dcp": 3,
    "iteration": 2,
    "prediction": 2,
    "pipeline": 1,
    "components": 0,
    "models": 0,
}


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
    assert upward_imports("pipeline", tmp_path) == [
        "pipeline/bad.py:1 imports dcp.cli"
    ]
    assert upward_imports("dcp", tmp_path) == []
