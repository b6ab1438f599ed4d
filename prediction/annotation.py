"""Annotated copies: each image, or each frame of a video, with the
predicted class and its confidence drawn on it."""

import io
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from prediction.inputs import FFMPEG

# Small images (the digits are 32 by 32) are enlarged, without smoothing,
# until the shorter side has this many pixels, so the label is legible.
_MIN_SIDE = 256
_BANNER = (0, 0, 0)
_TEXT = (255, 255, 0)


def label(class_name: str, confidence: float) -> str:
    return f"{class_name} {confidence:.2f}"


def annotate(image: bytes, text: str) -> Image.Image:
    """The encoded `image` as RGB, enlarged if small, with `text` on a
    banner along its top."""
    picture = Image.open(io.BytesIO(image)).convert("RGB")
    scale = -(-_MIN_SIDE // min(picture.size))  # ceiling division
    if scale > 1:
        picture = picture.resize(
            (picture.width * scale, picture.height * scale),
            Image.Resampling.NEAREST,
        )
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=max(12, min(picture.size) // 12))
    _, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad = max(2, (bottom - top) // 4)
    draw.rectangle((0, 0, right + 2 * pad, bottom + 2 * pad), fill=_BANNER)
    draw.text((pad, pad), text, fill=_TEXT, font=font)
    return picture


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
