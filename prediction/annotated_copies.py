"""Where annotated copies go, and videos written frame by frame; what is
drawn on a frame is the task's (core/task.py)."""

from pathlib import Path

import imageio.v2 as imageio
import numpy as np
from PIL import Image

from prediction.inputs import FFMPEG


def annotated_path(output_dir: Path, relative: Path, *, video: bool) -> Path:
    """Where the annotated copy goes: the input's place below the inputs'
    common folder, so names repeated in other folders stay apart; a video
    becomes an MP4 beside it (clip.avi → clip.avi.mp4)."""
    if video:
        relative = relative.with_name(relative.name + ".mp4")
    return output_dir / relative


class VideoWriter:
    """An H.264 MP4 written frame by frame with imageio's ffmpeg."""

    def __init__(self, path: Path, fps: float):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # macro_block_size=1: frames keep their size; _even pads them
        # for the encoder's 4:2:0 chroma.
        self._writer = imageio.get_writer(
            path, format=FFMPEG, fps=fps, macro_block_size=1
        )

    def append(self, frame: Image.Image) -> None:
        self._writer.append_data(_even(np.asarray(frame)))

    def close(self) -> None:
        self._writer.close()


def _even(pixels: np.ndarray) -> np.ndarray:
    height, width = pixels.shape[:2]
    return np.pad(
        pixels, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge"
    )
