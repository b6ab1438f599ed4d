"""The kit's static files (CSS and JavaScript), read once."""

import functools
from importlib import resources


@functools.cache
def static_file(name: str) -> str:
    path = resources.files("core.pages") / "static" / name
    return path.read_text(encoding="utf-8")
