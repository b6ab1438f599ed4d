"""The image ETL and the custom TFX components."""

# tf-keras before any TensorFlow: see models/__init__.py.
import models  # noqa: F401

# Here, since every process of the package (the `dcp` command, Beam
# workers, the TFX CLI's runs, notebooks) imports `components` first.
from components.quiet_start import quiet_start

quiet_start()
