"""Start TensorFlow without its known start-up noise, keeping real errors,
and with AutoGraph leaving tf-keras's internals as written.

On a CPU-only machine TF 2.16 logs three "Unable to register
cuFFT/cuDNN/cuBLAS factory" lines at error level while it loads: its
CUDA plugins are linked twice and register at load time
(tensorflow/tensorflow#62075), which is harmless. TF_CPP_MIN_LOG_LEVEL
cannot hide them without hiding every real error, so the import runs
with stderr captured and everything but those lines is written back.
"""

import os
import re
import sys
import tempfile
import warnings

KNOWN_NOISE = re.compile(
    rb"Unable to register cu(FFT|DNN|BLAS) factory: Attempting to register"
    rb" factory for plugin cu\w+ when one has already been registered"
)


def quiet_start() -> None:
    """Set up this process and the ones it starts (Beam workers, the
    TFX CLI's runs), then import TensorFlow without its known noise."""
    # Read when TensorFlow loads: C++ info and warnings off, errors on.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # The Google client libraries warn at import that Python 3.10 is
    # old; inherited by subprocesses, and set here for this one.
    os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning")
    warnings.filterwarnings(
        "ignore", category=FutureWarning, module=r"google\."
    )
    if "tensorflow" not in sys.modules:
        import_without_known_noise("tensorflow")
    leave_tf_keras_unconverted()


def leave_tf_keras_unconverted() -> None:
    """Have AutoGraph leave tf-keras's own code as written, as it leaves
    Keras's: TensorFlow's rules name `keras` but not `tf_keras`, the
    Keras 2 this package runs on, so each first trace converted
    tf-keras's internals. That cost the detector's first training step
    30 s instead of 11, and a TFLite conversion 27 s instead of 18. A
    model's own `call` is still converted: Keras converts it itself."""
    from tensorflow.python.autograph.core import config

    if not any(
        isinstance(rule, config.DoNotConvert) and rule.matches("tf_keras")
        for rule in config.CONVERSION_RULES
    ):
        config.CONVERSION_RULES = (
            config.DoNotConvert("tf_keras"),
            *config.CONVERSION_RULES,
        )


def import_without_known_noise(module: str) -> None:
    """Import `module` with file descriptor 2 captured, then write back
    every captured line except KNOWN_NOISE. Works on the descriptor, not
    on `sys.stderr`, since the noise comes from C++."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            __import__(module)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured:
                if not KNOWN_NOISE.search(line):
                    os.write(2, line)
