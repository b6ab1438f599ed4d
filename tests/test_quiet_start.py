import os

from core.quiet_start import import_without_known_noise

NOISE = (
    "2026-01-01 00:00:00.000000: E external/local_xla/xla/stream_executor/"
    "cuda/cuda_fft.cc:479] Unable to register cuFFT factory: Attempting to"
    " register factory for plugin cuFFT when one has already been registered"
)
REAL = "E tensorflow/core/framework/op_kernel.cc:1] a real error"


def test_known_noise_is_dropped_and_real_errors_kept(
    tmp_path, monkeypatch, capfd
):
    (tmp_path / "noisy_module.py").write_text(
        "import os\n"
        f"os.write(2, {(NOISE + chr(10)).encode()!r})\n"
        f"os.write(2, {(REAL + chr(10)).encode()!r})\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import_without_known_noise("noisy_module")
    os.write(2, b"after the import\n")
    assert capfd.readouterr().err == f"{REAL}\nafter the import\n"


def test_autograph_leaves_tf_keras_but_converts_our_code():
    import tf_keras
    from tensorflow.python.autograph.impl import conversion

    import core  # noqa: F401 - its import sets the process up
    import models.centernet

    assert conversion.is_allowlisted(tf_keras.layers.Dense.call)
    assert conversion.is_allowlisted(tf_keras.Model.train_step)
    assert not conversion.is_allowlisted(models.centernet.detect)
