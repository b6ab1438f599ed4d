"""The library the layers above share: the dataset (the ETL and the
embedded digits), the findings contract, the HTML page kit, the
population analysis, readers of examples and trained models, the
settings read from params.yaml, code fingerprints and the process
set-up."""

# tf-keras before any TensorFlow: see models/__init__.py.
import models  # noqa: F401

# Here, since every process of the package (the `dcp` command, Beam
# workers, the TFX CLI's runs, notebooks) imports `core` first, directly
# or through `components`, `pipeline` or `dcp`.
from core.quiet_start import quiet_start

quiet_start()
