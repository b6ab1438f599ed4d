"""What `dcp predict` reads: image files, folders of them and video
files, as a stream of frames, each ready for the model as the ETL would
have made it (a serialized tf.train.Example), or with the reason it
cannot be read."""

import dataclasses
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import imageio.v2 as imageio
import numpy as np
from PIL import Image

from core.dataset.etl.dataset_layout import SourceImage
from core.dataset.etl.image_decoding import (
    SUPPORTED_EXTENSIONS,
    BadImageError,
)
from core.dataset.etl.image_records import (
    ImageRecord,
    image_record,
    to_tf_example,
)
from core.task import DatasetTask, Predicting

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
# New images have no label; the Transform passes this one through.
NO_LABEL = -1
# imageio's stubs type `format` as a Format object; its documented name
# form picks the ffmpeg plugin whatever the file's suffix.
FFMPEG: Any = "FFMPEG"


@dataclasses.dataclass(frozen=True)
class Source:
    """One input file: an image, a video, or neither."""

    path: Path  # as found: the argument, or the argument / a file below
    relative: Path  # below the inputs' common folder: the annotated layout

    @property
    def is_video(self) -> bool:
        return self.path.suffix.lower() in VIDEO_EXTENSIONS


@dataclasses.dataclass(frozen=True)
class Frame:
    """An image, or a video's frame, read; `example` is None when it
    could not be, and `unreadable` says why."""

    source: Source
    index: int | None  # the frame of a video; None for an image
    image: bytes  # the encoded image (a video frame as PNG); b"" if none
    example: bytes | None  # the serialized tf.train.Example
    unreadable: str = ""
    fps: float = 0.0  # of its video
    size: tuple[int, int] = (0, 0)  # width, height, as the ETL decodes it


def find_sources(paths: list[Path]) -> list[Source]:
    """Every file of `paths`, a folder standing for the files below it at
    any depth, in the order given, each folder's sorted; ValueError for a
    path that does not exist. A file named twice is read once."""
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise ValueError(
            f"{', '.join(missing)}: no such file or folder; give image"
            " files, folders of them or video files"
        )
    files = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file())
        else:
            files.append(path)
    if not files:
        raise ValueError(
            f"{', '.join(map(str, paths))}: no files; give image files,"
            " folders of them or video files"
        )
    # Resolved file → the path as given, the first time it is given.
    first: dict[Path, Path] = {}
    for file in files:
        first.setdefault(file.resolve(), file)
    # Relative to the common folder, so that two files of one name in
    # different folders keep their places apart.
    root = Path(os.path.commonpath([full.parent for full in first]))
    return [
        Source(file, full.relative_to(root)) for full, file in first.items()
    ]


def read_frames(source: Source, task: DatasetTask) -> Iterator[Frame]:
    """The frames of `source`: one for an image or an unreadable file,
    one per frame for a video."""
    suffix = source.path.suffix.lower()
    if source.is_video:
        yield from _video_frames(source, task)
    elif suffix in SUPPORTED_EXTENSIONS:
        yield _image_frame(source, task)
    else:
        yield Frame(
            source,
            None,
            b"",
            None,
            "not an image or video file name (images: "
            f"{', '.join(SUPPORTED_EXTENSIONS)}; videos: "
            f"{', '.join(VIDEO_EXTENSIONS)})",
        )


def example_of(image: bytes, path: str, task: DatasetTask) -> bytes:
    """The serialized tf.train.Example of an encoded image, made by the
    ETL's own code with `task`'s keys and no annotation; BadImageError if
    it is no usable image."""
    return _example(_record(image, path, task), task)


def _record(image: bytes, path: str, task: DatasetTask) -> ImageRecord:
    # A classifier's new image has label -1; a Predicting task says what
    # stands for no annotation.
    annotation = (
        task.unannotated(path) if isinstance(task, Predicting) else None
    )
    return image_record(image, SourceImage("", "", path, annotation), NO_LABEL)


def _example(record: ImageRecord, task: DatasetTask) -> bytes:
    return to_tf_example(record, task).SerializeToString()


def _frame(
    source: Source,
    index: int | None,
    image: bytes,
    task: DatasetTask,
    fps: float = 0.0,
) -> Frame:
    """The frame of an encoded image, with its example; BadImageError if
    it is no usable image."""
    path = str(source.path) if index is None else f"{source.path}#{index}"
    record = _record(image, path, task)
    return Frame(
        source,
        index,
        image,
        _example(record, task),
        fps=fps,
        size=(record.width, record.height),
    )


def _image_frame(source: Source, task: DatasetTask) -> Frame:
    try:
        image = source.path.read_bytes()
    except OSError as error:
        return Frame(source, None, b"", None, f"unreadable file ({error})")
    try:
        return _frame(source, None, image, task)
    except BadImageError as error:
        return Frame(source, None, image, None, str(error))


def _video_frames(source: Source, task: DatasetTask) -> Iterator[Frame]:
    try:
        reader = imageio.get_reader(source.path, format=FFMPEG)
        fps = float(reader.get_meta_data().get("fps") or 25.0)
    except (OSError, RuntimeError, ValueError) as error:
        yield Frame(source, None, b"", None, _video_error(error))
        return
    index = 0
    with reader:
        try:
            for pixels in reader.iter_data():
                image = _png(np.asarray(pixels))
                yield _frame(source, index, image, task, fps)
                index += 1
        except (OSError, RuntimeError, ValueError) as error:
            # Frames up to here stand; the rest of the file is lost.
            yield Frame(source, index, b"", None, _video_error(error))
            return
    if index == 0:
        yield Frame(source, None, b"", None, "a video without frames")


def _video_error(error: Exception) -> str:
    first_line = str(error).strip().splitlines()[0] if str(error) else ""
    return (
        f"not a readable video ({type(error).__name__}: {first_line});"
        " fix: re-encode it, e.g. ffmpeg -i IN -c:v libx264 OUT.mp4"
    )


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()
