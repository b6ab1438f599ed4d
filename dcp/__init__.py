"""The `dcp` command line and params.yaml: the top layer, which reads
the configuration once and calls iteration/, pipeline/ and components/
with the sections each needs."""

import os

# Keras 3 in TF 2.16 breaks the TFLite converter; TFX needs tf-keras.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

# Before anything of dcp loads TensorFlow: see components/quiet_start.py.
import components  # noqa: F401
