"""The ETL on the real competition data, where ../shared has it."""

import csv
import random

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from core.dataset.etl.etl import run_etl
from models import features

pytestmark = [pytest.mark.dcai, pytest.mark.e2e]


def test_every_competition_file_is_converted_unchanged(dcai_root, tmp_path):
    output = tmp_path / "tfrecords"
    summary = run_etl(
        str(dcai_root),
        str(output),
        splits=("train", "val"),
        on_bad_file="fail",
        images_per_shard=2000,
        parallel_from_images=10_000,
        beam_args=(
            "--runner=DirectRunner",
            "--direct_running_mode=multi_processing",
            "--direct_num_workers=0",
        ),
    )
    on_disk = sorted(
        str(p.relative_to(dcai_root))
        for p in dcai_root.glob("*/*/*")
        if p.is_file()
    )
    assert len(on_disk) == 2880
    with (output / "manifest.csv").open() as file:
        manifest = sorted(row["path"] for row in csv.DictReader(file))
    assert manifest == on_disk
    assert summary.quarantined == ()
    assert {s: sum(c.values()) for s, c in summary.images.items()} == {
        "train": 2067,
        "val": 813,
    }

    files = sorted(str(p) for p in (output / "val").glob("*.tfrecord.gz"))
    examples = [
        tf.train.Example.FromString(record.numpy())
        for record in tf.data.TFRecordDataset(files, compression_type="GZIP")
    ]
    for example in random.Random(0).sample(examples, 50):
        feature = example.features.feature
        path = feature[features.PATH].bytes_list.value[0].decode()
        png = feature[features.IMAGE].bytes_list.value[0]
        source = np.asarray(Image.open(dcai_root / path))
        decoded = tf.io.decode_png(png).numpy()
        np.testing.assert_array_equal(decoded.squeeze(), source, err_msg=path)
