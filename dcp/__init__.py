"""The `dcp` command line and params.yaml: the top layer, which reads
the configuration once and calls iteration/, pipeline/ and components/
with the sections each needs."""

# Before anything of dcp loads TensorFlow: tf-keras chosen
# (models/__init__.py) and the start-up noise dropped
# (components/quiet_start.py).
import components  # noqa: F401
