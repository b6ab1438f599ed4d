"""The custom TFX components, one subpackage each, and
function_component.py, the typed decorator they are written with."""

# Before any component loads TensorFlow: tf-keras chosen and the
# start-up noise dropped (core/__init__.py).
import core  # noqa: F401
