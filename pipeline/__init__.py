"""The TFX pipeline: its settings, its DAG, the Evaluator's metrics, a
finished run's results and report, and what a run prints."""

import os

# Keras 3 in TF 2.16 breaks the TFLite converter; TFX needs tf-keras.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
