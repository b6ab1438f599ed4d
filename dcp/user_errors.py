"""What `dcp` says when a command is interrupted or the file system
fails it: one line naming the place, the reason and the fix, instead of
a traceback (a bug still shows its traceback)."""

import errno
import os
import sys
from collections.abc import Iterator

_LAST_VERSION = (
    "the data is at its last version; an interrupted change is finished"
    " or rolled back by the next dcp command"
)
_PARTLY_WRITTEN = "its output folder may be partly written; rerun to redo it"
# What a Ctrl-C leaves as it was, by command.
UNCHANGED_WHEN_INTERRUPTED = {
    "prepare": "the output folder is as it was",
    "etl": "the output folder is as it was",
    "pipeline": "finished components are cached; rerun to continue",
    "run": "the ETL output is as it was or complete, and finished"
    " components are cached; rerun to continue",
    "fix": _LAST_VERSION,
    "augment": _LAST_VERSION,
    "autolabel": _LAST_VERSION,
    "report": _PARTLY_WRITTEN,
    "compare": _PARTLY_WRITTEN,
    "shift": _PARTLY_WRITTEN,
    "predict": _PARTLY_WRITTEN,
    "review": "every decision made is saved in decisions.json; nothing"
    " was applied unless Apply said so",
    "kubeflow compile": "the spec file may be partly written; rerun",
    "kubeflow run-local": _PARTLY_WRITTEN,
    "kubeflow submit": "the run may have started; see the endpoint's UI",
}

# The fix of an I/O failure, by errno; the others are not the
# environment's doing, and keep their traceback.
_IO_FIXES = {
    errno.EACCES: "give a place you may write to, or change its permissions",
    errno.EPERM: "give a place you may write to, or change its permissions",
    errno.EROFS: "give a place on a writable file system",
    errno.ENOSPC: "free space on its disk, or give a place on another one",
    errno.EDQUOT: "free space within your quota, or give another place",
    errno.ENOTDIR: "a part of the path is a file: give another place",
    errno.EISDIR: "it is a folder: give a file's path",
    errno.ENOENT: "check the path, or create what is missing",
}
_FIX_OF_REASON = {os.strerror(code): fix for code, fix in _IO_FIXES.items()}
# A write to any file of the disk fails, and says not which.
_ANYWHERE_ON_DISK = (errno.ENOSPC, errno.EDQUOT)
# TensorFlow's file errors, and the fix of each.
_TF_FIXES = {
    "PermissionDeniedError": _IO_FIXES[errno.EACCES],
    "ResourceExhaustedError": _IO_FIXES[errno.ENOSPC],
    "FailedPreconditionError": "check that each part of the path is a"
    " folder you may write to",
    "NotFoundError": _IO_FIXES[errno.ENOENT],
}


def environment_error(error: BaseException) -> str | None:
    """One line naming the place, the reason and the fix, when `error`
    (or the error it was raised from, as Beam wraps a worker's) is a
    failure of the file system; else None."""
    for cause in _chain(error):
        if isinstance(cause, OSError) and cause.errno in _IO_FIXES:
            if cause.filename:
                where = f"{cause.filename}: {cause.strerror}"
            elif cause.errno in _ANYWHERE_ON_DISK:
                where = f"{cause.strerror} while writing"
            else:  # which file is unknown: perhaps a bug
                continue
            return f"{where}; {_IO_FIXES[cause.errno]}"
        fix = _tf_fix(cause)
        if fix:
            # TensorFlow says "PATH; REASON", the reason as strerror does.
            place, _, reason = (
                str(cause).strip().splitlines()[0].rpartition("; ")
            )
            fix = _FIX_OF_REASON.get(reason, fix)
            return f"{place}: {reason}; {fix}" if place else f"{reason}; {fix}"
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = error
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def _tf_fix(error: BaseException) -> str | None:
    # TensorFlow is not imported for it: only a command that loaded it
    # can have raised one of its errors.
    tf = sys.modules.get("tensorflow")
    if tf is None or not isinstance(error, tf.errors.OpError):
        return None
    return _TF_FIXES.get(type(error).__name__)
