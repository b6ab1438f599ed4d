"""`dcp shift`: two-sample tests of new images against a training set,
on real digit scans and the embeddings of the real fixed model trained
on them; end to end on a small real run."""

import argparse
import contextlib
import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import yaml
from PIL import Image
from sklearn.datasets import load_digits

from core.dataset.embedded.digits import brighten, render_digit
from core.dataset.etl.image_properties import image_properties
from core.pages.files import static_file
from core.readers import trained_model
from dcp.commands.new_data import add_parser
from dcp.config import load_config
from iteration.new_data.folder_images import UnreadableFile
from iteration.new_data.shift import (
    closeness_to_new,
    cluster_shares,
    embedding_test,
    near_copies,
    project_2d,
    property_drift,
)
from iteration.new_data.shift_report import (
    CandidateRow,
    ShiftReport,
    render_shift_report,
)
from models import features
from models.registry import compile_model, get_model_spec
from tests.new_data_run import small_run

ALPHA = 0.05
PERMUTATIONS = 200
TRAINING_IMAGES = 300
SET_SIZE = 400  # each of the two halves of one split


def model_input(gray: np.ndarray) -> np.ndarray:
    """uint8 [n, 32, 32] gray → the fixed model's RGB input in 0..1."""
    return np.repeat(gray[..., None], 3, axis=-1).astype(np.float32) / 255


def properties(gray: np.ndarray) -> dict[str, np.ndarray]:
    rows = [image_properties(image[..., None]) for image in gray]
    return {n: np.array([row[n] for row in rows]) for n in features.PROPERTIES}


@pytest.fixture(scope="module")
def digits() -> dict[str, np.ndarray]:
    """Real digit scans: two halves of one split (a, b), b brightened
    (c), and 100 more (d) with a brightened copy (e) as candidates;
    images and their embeddings by the fixed model trained a little."""
    scans = load_digits()
    # At random: the scans come in blocks by writer, and two blocks are
    # a real shift.
    order = np.random.default_rng(0).permutation(len(scans.images))
    order = order[: TRAINING_IMAGES + 2 * SET_SIZE + 100]
    gray = np.stack([render_digit(scan, 32) for scan in scans.images[order]])
    labels = scans.target[order]
    spec = get_model_spec("dcai_resnet50")
    tf.keras.utils.set_random_seed(spec.seed)
    model = spec.build(10)
    compile_model(model, spec)
    model.fit(
        model_input(gray[:TRAINING_IMAGES]),
        labels[:TRAINING_IMAGES],
        batch_size=spec.batch_size,
        epochs=3,
        verbose=0,
    )
    start = TRAINING_IMAGES
    sets = {
        "a": gray[start : start + SET_SIZE],
        "b": gray[start + SET_SIZE : start + 2 * SET_SIZE],
        "d": gray[start + 2 * SET_SIZE :],
    }
    sets["c"] = np.stack([brighten(image) for image in sets["b"]])
    sets["e"] = np.stack([brighten(image) for image in sets["d"]])
    return {
        **sets,
        **{
            f"{name}_embedded": trained_model.embed(model, model_input(x))
            for name, x in sets.items()
        },
    }


def test_two_halves_of_one_split_have_no_drifted_property(digits):
    drifts = property_drift(
        properties(digits["a"]), properties(digits["b"]), alpha=ALPHA
    )

    assert {d.name for d in drifts} == set(features.PROPERTIES)
    assert [d.name for d in drifts if d.drifted] == []
    assert all(d.p_value > ALPHA for d in drifts)


def test_a_brightened_copy_drifts_in_brightness(digits):
    drifts = property_drift(
        properties(digits["a"]), properties(digits["c"]), alpha=ALPHA
    )

    by_name = {d.name: d for d in drifts}
    brightness = by_name[features.BRIGHTNESS]
    assert brightness.drifted
    assert brightness.statistic > 0.5
    assert brightness.new_median > brightness.train_median + 40
    assert by_name[features.DARK_FRACTION].drifted
    # Largest effect first.
    assert [d.statistic for d in drifts] == sorted(
        (d.statistic for d in drifts), reverse=True
    )


def test_no_shift_between_two_halves_in_embedding_space(digits):
    test = embedding_test(
        digits["a_embedded"],
        digits["b_embedded"],
        permutations=PERMUTATIONS,
    )

    assert test.p_value > ALPHA
    assert test.domain_auc < 0.7
    assert test.permutations == PERMUTATIONS


def test_a_brightened_copy_is_a_shift_in_embedding_space(digits):
    test = embedding_test(
        digits["a_embedded"],
        digits["c_embedded"],
        permutations=PERMUTATIONS,
    )

    # No permutation came near: the smallest p-value there is.
    assert test.p_value == pytest.approx(1 / (PERMUTATIONS + 1))
    assert test.domain_auc > 0.9
    halves = embedding_test(
        digits["a_embedded"], digits["b_embedded"], permutations=1
    )
    assert test.mmd2 > 10 * halves.mmd2


@pytest.mark.parametrize(
    ("train", "new", "permutations", "message"),
    [(1, 5, 10, "2 or more images a side"), (5, 5, 0, "must be 1 or more")],
)
def test_the_embedding_test_refuses_what_it_cannot_test(
    digits, train, new, permutations, message
):
    embedded = digits["a_embedded"]
    with pytest.raises(ValueError, match=message):
        embedding_test(
            embedded[:train], embedded[:new], permutations=permutations
        )


def test_brightened_images_form_clusters_train_lacks(digits):
    half = SET_SIZE // 2
    new = np.concatenate(
        [digits["b_embedded"][:half], digits["c_embedded"][half:]]
    )

    clustering = cluster_shares(
        digits["a_embedded"], new, clusters=8, alpha=ALPHA
    )

    under = [c for c in clustering.clusters if c.under_represented]
    assert under
    members = sum(c.new_count for c in under)
    assert members >= 0.5 * half
    for cluster in under:
        assert cluster.new_share >= 2 * cluster.train_share
        assert all(index >= half for index in cluster.examples)
    assert sum(c.new_count for c in clustering.clusters) == SET_SIZE
    assert sum(c.train_count for c in clustering.clusters) == SET_SIZE


def test_halves_of_one_split_have_no_under_represented_cluster(digits):
    clustering = cluster_shares(
        digits["a_embedded"], digits["b_embedded"], clusters=8, alpha=ALPHA
    )

    assert not any(c.under_represented for c in clustering.clusters)


def test_candidates_like_the_new_data_rank_first(digits):
    candidates = np.concatenate([digits["d_embedded"], digits["e_embedded"]])
    brightened = np.arange(len(candidates)) >= len(digits["d_embedded"])

    score, to_new, to_train = closeness_to_new(
        digits["a_embedded"], digits["c_embedded"], candidates
    )

    top = np.argsort(-score)[: len(digits["e_embedded"])]
    assert brightened[top].mean() >= 0.9
    np.testing.assert_allclose(score, np.log(to_train / to_new))


def test_a_near_copy_of_a_better_candidate_is_named(digits):
    d = digits["d_embedded"]
    noise = np.random.default_rng(0).normal(0, 1e-4, d[:10].shape)
    candidates = np.concatenate([d, d[:10] + noise])
    score, _, _ = closeness_to_new(
        digits["a_embedded"], digits["c_embedded"], candidates
    )
    copy_of = near_copies(digits["a_embedded"], candidates, np.argsort(-score))
    twins = {i: i + len(d) for i in range(10)}
    flagged = {i: int(j) for i, j in enumerate(copy_of) if j >= 0}
    # Of each pair, the one ranked second names the other; nothing else.
    assert len(flagged) == 10
    assert all(
        twins.get(i) == j or twins.get(j) == i for i, j in flagged.items()
    )
    assert all(score[j] >= score[i] for i, j in flagged.items())


def test_the_report_shows_the_figures_and_escapes_user_strings(digits):
    a, c = digits["a_embedded"], digits["c_embedded"]
    candidates = digits["e_embedded"][:3]
    train_2d, new_2d, candidates_2d, variance = project_2d(a, c, candidates)
    assert (train_2d.shape, new_2d.shape, candidates_2d.shape) == (
        (SET_SIZE, 2),
        (SET_SIZE, 2),
        (3, 2),
    )
    assert 0 < variance.sum() <= 1
    clustering = cluster_shares(a, c, clusters=4, alpha=ALPHA)
    png = Image.fromarray(digits["c"][0])
    buffer = io.BytesIO()
    png.save(buffer, format="PNG")
    hostile = '<script>alert("x")</script>'
    report = ShiftReport(
        run_id="run-1",
        new_folder=f"/data/{hostile}",
        candidates_folder="/data/candidates",
        train_count=SET_SIZE,
        new_count=SET_SIZE,
        candidate_count=1,
        alpha=ALPHA,
        shifted=True,
        drifts=property_drift(
            properties(digits["a"]), properties(digits["c"]), alpha=ALPHA
        ),
        test=embedding_test(a, c, permutations=10),
        clusters=clustering.clusters,
        cluster_examples={
            cluster.index: [(f"{hostile}.png", buffer.getvalue())]
            for cluster in clustering.clusters
        },
        candidates=[
            CandidateRow(
                f"{hostile}.png",
                1.5,
                1.0,
                4.5,
                0,
                True,
                png=buffer.getvalue(),
                near_copy_of="",
            )
        ],
        new_unreadable=[UnreadableFile(f"{hostile}.png", "empty file")],
        candidate_unreadable=[],
        projection={
            "train": train_2d,
            "new": new_2d,
            "candidates": candidates_2d,
        },
        explained_variance=(float(variance[0]), float(variance[1])),
    )

    page = render_shift_report(report)

    # The only script is the kit's table sorter.
    assert re.findall(r"<script>(.*?)</script>", page, re.DOTALL) == [
        static_file("sort_tables.js")
    ]
    assert page.count("<script") == 1
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "Shift detected (p = 0.0909" in page
    assert page.count("<circle") == 2 * SET_SIZE + 3 + 3  # + legend
    assert page.count("data:image/png;base64,") == len(clustering.clusters) + 1
    assert "brightness" in page and "drifted" in page
    assert "Content-Security-Policy" in page


# End to end: `dcp shift` against a small real run.


def copy_images(source: Path, target: Path, *, change=None) -> Path:
    """The PNGs below `source` into `target`, through `change` if given;
    files that are not images are left out."""
    for path in sorted(source.rglob("*.png")):
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            with Image.open(path) as image:
                pixels = np.asarray(image.convert("L"))
        except OSError:
            continue
        Image.fromarray(change(pixels) if change else pixels).save(out)
    return target


@pytest.fixture(scope="module")
def shift_runs(tmp_path_factory) -> dict:
    trained = small_run(tmp_path_factory)
    root = tmp_path_factory.mktemp("shift")
    val = copy_images(trained.raw / "val", root / "val")
    brightened = copy_images(
        trained.raw / "val", root / "val_bright", change=brighten
    )
    candidates = root / "candidates"
    copy_images(trained.raw / "test", candidates / "as_is")
    copy_images(trained.raw / "test", candidates / "bright", change=brighten)
    (candidates / "notes.txt").write_text("where these came from\n")
    params = yaml.safe_load(trained.params.read_text())
    params["shift"]["permutations"] = PERMUTATIONS
    params["pipeline"]["name"] = "another"  # the run is found by --name
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    config = load_config(root / "params.yaml")
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    printed = {}
    for name, argv in {
        "val": [
            "shift",
            str(val),
            "--name",
            "digits",
            "--output",
            str(root / "out_val"),
        ],
        "bright": [
            "shift",
            str(brightened),
            "--name",
            "digits",
            "--candidates",
            str(candidates),
            "--output",
            str(root / "out_bright"),
        ],
    }.items():
        args = parser.parse_args(argv)
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            args.run(args, config, [])
        printed[name] = output.getvalue()
    return {"root": root, "printed": printed}


@pytest.mark.e2e
def test_val_images_are_no_shift_from_train(shift_runs):
    printed = shift_runs["printed"]["val"]
    assert printed.startswith("Verdict: no shift (p=")
    figures = json.loads(
        (shift_runs["root"] / "out_val" / "shift.json").read_text()
    )
    assert figures["shift"] is False
    assert figures["embedding_test"]["p_value"] > ALPHA
    assert figures["drifted_properties"] == []
    assert figures["under_represented_clusters"] == []
    assert figures["images"]["candidates"] == 0
    assert "drifted properties: none" in printed


@pytest.mark.e2e
def test_brightened_val_images_are_a_shift(shift_runs):
    root = shift_runs["root"]
    printed = shift_runs["printed"]["bright"]
    figures = json.loads((root / "out_bright" / "shift.json").read_text())

    assert printed.startswith(
        f"Verdict: shift detected (p={1 / (PERMUTATIONS + 1):.3g}"
    )
    assert figures["shift"] is True
    assert features.BRIGHTNESS in figures["drifted_properties"]
    assert f"{features.BRIGHTNESS} (D=" in printed
    assert figures["images"]["new"] == figures["images"]["candidates"] // 2
    assert figures["unreadable"]["candidates"] == [
        {
            "path": "notes.txt",
            "reason": "not an image file name (.png, .jpg or .jpeg)",
        }
    ]
    for output in ("shift.html", "shift.json", "candidates.csv"):
        assert f"{root / 'out_bright' / output}" in printed


@pytest.mark.e2e
def test_brightened_candidates_rank_first(shift_runs):
    with (shift_runs["root"] / "out_bright" / "candidates.csv").open() as f:
        ranking = [row["path"] for row in csv.DictReader(f)]
    top = ranking[: len(ranking) // 2]
    assert sum(path.startswith("bright/") for path in top) >= 0.9 * len(top)


@pytest.mark.e2e
def test_the_report_is_self_contained(shift_runs):
    page = (shift_runs["root"] / "out_bright" / "shift.html").read_text()
    assert "<svg" in page
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sources
    assert all(
        source.startswith("data:image/png;base64,") for source in sources
    )
