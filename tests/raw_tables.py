"""RawTables built from pixels, as the ETL would read them back."""

import hashlib

import numpy as np

from core.dataset.embedded.digits import png_bytes
from core.dataset.etl.image_properties import image_properties
from core.readers.example_tables import RawTable
from models import features


def raw_table(images: list[tuple[str, str, np.ndarray]]) -> RawTable:
    """A RawTable from (path, label name, uint8 pixels) triples."""
    pngs = [png_bytes(pixels) for _, _, pixels in images]
    arrays = [p if p.ndim == 3 else p[:, :, np.newaxis] for _, _, p in images]
    props = [image_properties(a) for a in arrays]
    names = sorted({label for _, label, _ in images})
    return RawTable(
        paths=[path for path, _, _ in images],
        labels=np.array([names.index(n) for _, n, _ in images], np.int64),
        label_names=[label for _, label, _ in images],
        sha256=[hashlib.sha256(png).hexdigest() for png in pngs],
        widths=np.array([a.shape[1] for a in arrays]),
        heights=np.array([a.shape[0] for a in arrays]),
        channels=np.array([a.shape[2] for a in arrays]),
        properties={
            name: np.array([p[name] for p in props])
            for name in features.PROPERTIES
        },
        pngs=pngs,
    )
