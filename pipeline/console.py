"""What a `dcp` run prints: our progress and results, warnings from the
libraries, and not their start-up chatter; after Ctrl-C, nothing more
from them."""

import logging
import os
import re
import signal
import threading

from absl import logging as absl_logging

import components

# Beam's local runner relays each worker's log entry as one line of
# protobuf text, e.g. `severity: INFO ... message: "..." ...
# log_location: "/path/file.py:12"`.
_RELAY_LOGGER = "apache_beam.runners.portability.local_job_service"
_RELAYED_MESSAGE = re.compile(r'message: "(.*?)" (?:instruction_id|log_loc)')
_OWN_CODE = os.path.dirname(os.path.abspath(components.__file__))


class _WorkerLogFilter(logging.Filter):
    """Let through relayed worker messages from our own code, as plain
    text, and errors; drop the worker harness's own start-up notes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        entry = record.getMessage()
        match = _RELAYED_MESSAGE.search(entry)
        if match is None or _OWN_CODE not in entry:
            return False
        record.msg, record.args = match.group(1), ()
        return True


# TFX's orchestrators log each component's start and end: the progress
# of a pipeline run.
_TFX_PROGRESS = re.compile(r"(node|Component) \S+ is (running|finished)\.")
# Warnings TFX 1.16 and Beam 2.61 give on every run, about themselves.
_HARMLESS = (
    "ArtifactQuery.property_predicate is not supported",
    "No iterator is returned by the process method",
    "does not have payload_format custom property",
    # BeamDagRunner's own orchestration pipeline; the components' Beam
    # options come from params.yaml.
    "Missing pipeline option (runner)",
    # Beam's batching logs its timings to the root logger, at INFO.
    "BatchElements statistics:",
    # TFMA, reading an evaluation that has no plots for an unnamed model.
    "Fail to find plots for model name",
)


class _LibraryLogFilter(logging.Filter):
    """Of TFX's own logging (absl), the progress lines and warnings; none
    of the harmless warnings."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(harmless in message for harmless in _HARMLESS):
            return False
        if record.name == "absl" and record.levelno < logging.WARNING:
            return _TFX_PROGRESS.fullmatch(message) is not None
        return True


class _DropRaisedError(logging.Filter):
    """Beam logs the error of a failing step, traceback and all, then
    raises it: dcp says it once, when it reaches the command."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.exc_info is None


def configure_logging() -> None:
    # force: importing TFX may already have configured the root logger.
    logging.basicConfig(level=logging.INFO, format="%(message)s", force=True)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_LibraryLogFilter())
    logging.getLogger("apache_beam").setLevel(logging.WARNING)
    logging.getLogger("apache_beam.runners.common").addFilter(
        _DropRaisedError()
    )
    relay = logging.getLogger(_RELAY_LOGGER)
    relay.setLevel(logging.INFO)
    relay.addFilter(_WorkerLogFilter())
    # Through absl's own verbosity, not the logger's level: TensorFlow
    # saving a model sets absl's verbosity to FATAL and back to what
    # absl reports, which would otherwise be WARNING.
    absl_logging.set_verbosity(absl_logging.INFO)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    # It asks for python-snappy's CRC32C; crcmod's C extension, installed,
    # is just as fast.
    logging.getLogger("apache_beam.io.tfrecordio").setLevel(logging.ERROR)


_interrupted = threading.Event()


def quiet_on_interrupt() -> None:
    """Make Ctrl-C silence the libraries, then raise KeyboardInterrupt:
    what they print in its wake (Beam logs the interrupted bundle, its
    threads die with a traceback) would bury what dcp says of it."""
    signal.signal(signal.SIGINT, _on_interrupt)


def was_interrupted() -> bool:
    return _interrupted.is_set()


def _on_interrupt(signum: int, frame: object) -> None:
    _interrupted.set()
    logging.disable(logging.CRITICAL)
    threading.excepthook = _ignore
    raise KeyboardInterrupt


def _ignore(args: threading.ExceptHookArgs) -> None:
    pass
