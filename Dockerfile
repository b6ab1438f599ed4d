# The image every Kubeflow step runs in: TFX 1.16 and this project, with
# the pins of `make install`.
#   docker build -t IMAGE . && docker push IMAGE
#   dcp kubeflow compile --image IMAGE
FROM gcr.io/tfx-oss-public/tfx:1.16.0

# Each step runs `python -m dcp.kubeflow_entrypoint` (TFX's v2 executor
# entrypoint, fixed for the open-source KFP backend) and the compiled spec
# sets no environment: the image sets it. `dcp kubeflow run-local` sets
# the same (dcp/kubeflow_local.py, IMAGE_ENV). Keras 3 in TF 2.16 crashes
# the TFLite converter, so every Python here uses tf-keras.
ENV TF_USE_LEGACY_KERAS=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# The lock is resolved for Python 3.10; stop if the `python` the steps run
# is another.
RUN python -c 'import sys; v = sys.version_info[:2]; \
sys.exit(None if v == (3, 10) else f"need Python 3.10, found {v}")'

# Exactly the lock's versions, into that same Python, replacing the base
# image's where they differ. A layer of its own: code changes reuse it.
COPY requirements.lock /tmp/requirements.lock
RUN python -m pip install -r /tmp/requirements.lock && rm /tmp/requirements.lock

# The project, not editable; the steps import the installed package (the
# dotted paths models.preprocessing.preprocessing_fn, models.trainer.run_fn).
COPY . /tmp/dcp
RUN python -m pip install --no-deps --no-build-isolation /tmp/dcp \
    && rm -rf /tmp/dcp \
    && cd / && python -c 'import models.trainer, models.preprocessing, \
components.tflite_export.component, tasks.classification.task, \
dcp.kubeflow_entrypoint'
