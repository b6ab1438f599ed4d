"""The TFX pipeline: its settings, its DAG, the Evaluator's metrics, a
finished run's results and report, and what a run prints."""

# Before anything of the pipeline loads TensorFlow: see dcp/__init__.py.
import core  # noqa: F401
