"""The `dcp` command line and params.yaml: the top layer, which reads
the configuration once and calls iteration/, pipeline/ and components/
with the sections each needs."""

# Before anything of dcp loads TensorFlow: tf-keras chosen
# (models/__init__.py) and the start-up noise dropped
# (core/quiet_start.py), both by core/__init__.py.
import core  # noqa: F401
