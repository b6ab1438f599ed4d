"""TFX's Python function components, typed for mypy.

`@component` builds a TFX component from a function whose annotations
say which arguments are input artifacts, output artifacts and
parameters. TFX reads those annotations when the module is imported:
`InputArtifact[Examples]` is an object, not a type, and the decorator is
typed for `types.FunctionType`. So mypy sees here what the function
receives (the artifact, the parameter's value) and a decorator that
takes any function; at run time these are TFX's own.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Annotated, TypeAlias, TypeVar

    from tfx.dsl.component.experimental.decorators import (
        BaseFunctionalComponentFactory,
    )

    _T = TypeVar("_T")
    InputArtifact: TypeAlias = Annotated[_T, "input artifact"]
    # An input artifact whose channel may be left out: None then.
    OptionalInputArtifact: TypeAlias = Annotated[_T | None, "input artifact"]
    OutputArtifact: TypeAlias = Annotated[_T, "output artifact"]
    Parameter: TypeAlias = Annotated[_T, "execution parameter"]
    component: Callable[[Callable[..., None]], BaseFunctionalComponentFactory]
else:
    from tfx.v1.dsl.components import (
        InputArtifact,
        OutputArtifact,
        Parameter,
        component,
    )

    OptionalInputArtifact = InputArtifact

__all__ = [
    "InputArtifact",
    "OptionalInputArtifact",
    "OutputArtifact",
    "Parameter",
    "component",
]
