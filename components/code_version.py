"""A fingerprint of this package's code, for the TFX cache.

TFX reuses an earlier execution when a component's inputs and parameters
are unchanged; it does not look at the code the component runs (our
executors, `preprocessing_fn`, `run_fn`). Every component that runs our
code takes this fingerprint as a parameter, so after a change of the
package they run again instead of serving what older code made.
"""

import hashlib
from pathlib import Path

from tfx.types import component_spec

CODE_VERSION_KEY = "code_version"
CODE_VERSION_PARAMETER = component_spec.ExecutionParameter(
    type=str, optional=True
)
# The packages whose code runs inside the pipeline's components.
_PACKAGES = ("components", "models")


def code_fingerprint(root: Path | None = None) -> str:
    """16 hex digits of the SHA-256 of every module of those packages,
    found in `root` (default: where this package is installed)."""
    root = root or Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for package in _PACKAGES:
        for module in sorted((root / package).rglob("*.py")):
            digest.update(module.relative_to(root).as_posix().encode())
            digest.update(module.read_bytes())
    return digest.hexdigest()[:16]
