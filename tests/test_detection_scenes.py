"""The embedded detection dataset: its YOLO layout, its scenes' pixels
against their boxes, and its answer key against the written files."""

import hashlib
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image, ImageDraw

from tasks.detection import embedded_scenes
from tasks.detection.embedded_scenes import (
    BLANK,
    CLASS_SHARES,
    CLASSES,
    DEFECT_KINDS,
    HEIGHT,
    LEAKED,
    LOOSENED,
    MISSING,
    SHIFTED,
    SPLITS,
    SPURIOUS,
    SWAPPED,
    TRAIN_DUPLICATES,
    WIDTH,
    Scene,
    SceneDefects,
    SceneSummary,
    write_scenes,
)

ARTIFACTS = Path(__file__).parent / "artifacts"
SEED = 7
BOX_DEFECTS = (MISSING, SWAPPED, SHIFTED, LOOSENED, SPURIOUS)

Labelled = tuple[str, tuple[float, ...]]  # class name, [cx, cy, w, h]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[Path, dict, SceneSummary, dict]:
    """The default dataset, its answer key and summary, and the scenes
    drawn for it, by the sha256 of their pixels."""
    root = tmp_path_factory.mktemp("scenes") / "raw"
    scenes: list[Scene] = []

    def spy(*args, **kwargs) -> Scene:
        scene = draw_scene(*args, **kwargs)
        scenes.append(scene)
        return scene

    draw_scene = embedded_scenes.draw_scene
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(embedded_scenes, "draw_scene", spy)
        summary = write_scenes(root, seed=SEED)
    key = json.loads((root / "defects.json").read_text())
    by_pixels = {_digest(scene.pixels): scene for scene in scenes}
    return root, key, summary, by_pixels


def _digest(pixels: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest()


def pixels_of(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def label_path(root: Path, image: str) -> Path:
    _, split, name = image.split("/")
    return root / "labels" / split / f"{Path(name).stem}.txt"


def labels_of(root: Path, image: str) -> list[Labelled]:
    lines = label_path(root, image).read_text().splitlines()
    return [
        (CLASSES[int(line.split()[0])], tuple(map(float, line.split()[1:])))
        for line in lines
    ]


def images(root: Path, split: str) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in (root / "images" / split).glob("*.png")
    )


def labelled(entry: dict) -> Labelled:
    """A box of the answer key as labels_of gives it."""
    return entry["class"], tuple(entry["box"])


def true_labels(scene: Scene) -> list[Labelled]:
    return [
        (CLASSES[o.label], tuple(embedded_scenes._normalised(o.box)))
        for o in scene.objects
    ]


def corners(box: tuple[float, ...]) -> np.ndarray:
    """[cx, cy, w, h] in 0..1 as pixel corners x0, y0, x1, y1."""
    cx, cy, w, h = box
    return np.array(
        [
            (cx - w / 2) * WIDTH,
            (cy - h / 2) * HEIGHT,
            (cx + w / 2) * WIDTH,
            (cy + h / 2) * HEIGHT,
        ]
    )


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = corners(a), corners(b)
    inter = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(
        0.0, min(ay1, by1) - max(ay0, by0)
    )
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return float(inter / union)


def key_entries(key: dict) -> list[tuple[str, dict]]:
    return [(kind, entry) for kind in DEFECT_KINDS for entry in key[kind]]


def scene_of(root: Path, image: str, by_pixels: dict) -> Scene:
    return by_pixels[_digest(pixels_of(root / image))]


def test_the_layout_is_what_ultralytics_reads(dataset):
    root, _, summary, _ = dataset
    assert yaml.safe_load((root / "data.yaml").read_text()) == {
        "path": ".",
        "train": "images/train",
        "val": "images/val",
        "test": "images/test",
        "names": list(CLASSES),
    }
    for split in SPLITS:
        names = images(root, split)
        assert len(names) == summary.images[split]
        labels = sorted((root / "labels" / split).glob("*.txt"))
        assert [p.stem for p in labels] == [Path(n).stem for n in names]
        for name in names:
            with Image.open(root / name) as image:
                assert (image.format, image.mode) == ("PNG", "RGB")
                assert image.size == (WIDTH, HEIGHT)
        for path in labels:
            for line in path.read_text().splitlines():
                label, *box = line.split(" ")
                assert 0 <= int(label) < len(CLASSES)
                assert len(box) == 4
                cx, cy, w, h = map(float, box)
                assert w > 0 and h > 0
                # Within the image, up to the 6 decimals written.
                assert cx - w / 2 >= -1e-6 and cx + w / 2 <= 1 + 1e-6
                assert cy - h / 2 >= -1e-6 and cy + h / 2 <= 1 + 1e-6


def test_the_summary_counts_the_files(dataset):
    root, key, summary, _ = dataset
    for split in SPLITS:
        written = Counter(
            name
            for image in images(root, split)
            for name, _ in labels_of(root, image)
        )
        assert summary.boxes[split] == {c: written[c] for c in CLASSES}
    assert summary.defects == {k: len(key[k]) for k in DEFECT_KINDS}
    assert "train: 309 images" in summary.describe()


def test_one_class_is_several_times_as_frequent(dataset):
    _, _, _, by_pixels = dataset
    drawn = Counter(
        o.label for scene in by_pixels.values() for o in scene.objects
    )
    total = sum(drawn.values())
    assert total > 1000
    for label, share in enumerate(CLASS_SHARES):
        assert drawn[label] / total == pytest.approx(share, abs=0.03)


def test_each_split_has_background_images(dataset):
    root, key, _, by_pixels = dataset
    blanks = {entry["path"] for entry in key[BLANK]}
    for split in SPLITS:
        empty = [
            image
            for image in images(root, split)
            if image not in blanks
            and not labels_of(root, image)
            and not scene_of(root, image, by_pixels).objects
        ]
        assert len(empty) >= 6


def test_clean_boxes_are_the_tight_boxes_of_drawn_ink(dataset):
    root, key, _, by_pixels = dataset
    blanks = {entry["path"] for entry in key[BLANK]}
    defective: dict[str, list[dict]] = {}
    for kind in BOX_DEFECTS:
        for entry in key[kind]:
            defective.setdefault(entry["path"], []).append(entry)
    for split in SPLITS:
        for image in images(root, split):
            if image in blanks:
                continue
            scene = scene_of(root, image, by_pixels)
            written: list[Labelled | None] = list(labels_of(root, image))
            true = true_labels(scene)
            for entry in defective.get(image, []):
                if entry["line"] is not None:
                    written[entry["line"]] = None
                if entry["true"] is not None:
                    true.remove(labelled(entry["true"]))
            assert sorted(w for w in written if w) == sorted(true)
            _check_ink(scene)


def _check_ink(scene: Scene) -> None:
    """Every pixel that differs from the background is some object's
    ink, and each object's ink shows up to its box's edges."""
    changed = (scene.pixels != scene.background).any(axis=2)
    inked = np.zeros_like(changed)
    for obj in scene.objects:
        footprint = np.zeros_like(changed)
        box = obj.box
        footprint[box.y0 : box.y1, box.x0 : box.x1] = obj.alpha > 0
        inked |= footprint
        shown = changed & footprint
        assert shown.sum() >= 0.95 * footprint.sum()
        rows = np.flatnonzero(shown.any(axis=1))
        columns = np.flatnonzero(shown.any(axis=0))
        drawn = (columns[0], rows[0], columns[-1] + 1, rows[-1] + 1)
        assert np.abs(np.subtract(drawn, box)).max() <= 1
    assert not (changed & ~inked).any()


def test_every_box_defect_is_in_the_label_files(dataset):
    root, key, _, by_pixels = dataset
    train_boxes = sum(
        len(scene_of(root, image, by_pixels).objects)
        for image in images(root, "train")
        if image not in {e["path"] for e in key[BLANK]}
        and image
        not in {e["path"] for e in key[LEAKED] + key[TRAIN_DUPLICATES]}
    )
    defects = SceneDefects()
    expected = {
        MISSING: round(train_boxes * defects.missing_fraction),
        SWAPPED: round(train_boxes * defects.swapped_fraction),
        SPURIOUS: round(train_boxes * defects.spurious_fraction),
    }
    for kind, count in expected.items():
        assert len(key[kind]) == count
    assert abs(len(key[SHIFTED]) - len(key[LOOSENED])) <= 1
    for kind in BOX_DEFECTS:
        for entry in key[kind]:
            _check_box_defect(root, kind, entry, by_pixels)


def _check_box_defect(
    root: Path, kind: str, entry: dict, by_pixels: dict
) -> None:
    written = labels_of(root, entry["path"])
    true = labelled(entry["true"]) if entry["true"] else None
    given = labelled(entry["written"]) if entry["written"] else None
    if entry["line"] is not None:
        assert written[entry["line"]] == given
    scene = scene_of(root, entry["path"], by_pixels)
    if kind == MISSING:
        assert given is None and true in true_labels(scene)
        assert true not in written
    elif kind == SWAPPED:
        assert true and given and true[1] == given[1]
        assert true[0] != given[0]
    elif kind in (SHIFTED, LOOSENED):
        assert true and given and true[0] == given[0]
        assert iou(true[1], given[1]) < 0.5
        if kind == LOOSENED:
            outer, inner = corners(given[1]), corners(true[1])
            assert (outer[:2] <= inner[:2] + 1e-3).all()
            assert (outer[2:] >= inner[2:] - 1e-3).all()
    else:
        assert true is None and given is not None
        x0, y0, x1, y1 = np.round(corners(given[1])).astype(int)
        assert np.array_equal(
            scene.pixels[y0:y1, x0:x1], scene.background[y0:y1, x0:x1]
        )
        assert all(iou(given[1], t[1]) == 0 for t in true_labels(scene))


def test_copies_and_blank_images(dataset):
    root, key, _, _ = dataset
    for kind, sources in (
        (LEAKED, ("val", "test")),
        (TRAIN_DUPLICATES, ("train",)),
    ):
        assert key[kind]
        for entry in key[kind]:
            copy, source = entry["path"], entry["duplicate_of"]
            assert copy.startswith("images/train/")
            assert source.split("/")[1] in sources
            assert (root / copy).read_bytes() == (root / source).read_bytes()
            assert (
                label_path(root, copy).read_bytes()
                == label_path(root, source).read_bytes()
            )
    assert {e["duplicate_of"].split("/")[1] for e in key[LEAKED]} == {
        "val",
        "test",
    }
    assert len(key[BLANK]) == 3
    for entry in key[BLANK]:
        assert entry["path"].startswith("images/train/")
        pixels = pixels_of(root / entry["path"])
        assert (pixels == entry["colour"]).all()
        assert labels_of(root, entry["path"]) == [
            labelled(box) for box in entry["written"]
        ]
    assert [len(e["written"]) for e in key[BLANK]] == [0, 1, 0]


def test_val_and_test_are_clean(dataset):
    root, key, _, by_pixels = dataset
    assert all(
        entry["path"].startswith("images/train/")
        for _, entry in key_entries(key)
    )
    for split in ("val", "test"):
        for image in images(root, split):
            scene = scene_of(root, image, by_pixels)
            assert labels_of(root, image) == true_labels(scene)
            pixels = pixels_of(root / image)
            assert (pixels != pixels[0, 0]).any()


def test_the_same_seed_writes_the_same_bytes(tmp_path):
    def files(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    def small(folder: str, seed: int) -> SceneSummary:
        return write_scenes(
            tmp_path / folder,
            seed=seed,
            train_images=40,
            val_images=10,
            test_images=10,
        )

    first, second, other = small("a", 3), small("b", 3), small("c", 4)
    assert first == second
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert first.defects[BLANK] == 3 and other.images == first.images
    images_a = {
        data
        for name, data in files(tmp_path / "a").items()
        if name.endswith(".png")
    }
    images_c = {
        data
        for name, data in files(tmp_path / "c").items()
        if name.endswith(".png")
    }
    assert not images_a & images_c


def test_bad_class_shares_are_refused(tmp_path):
    with pytest.raises(ValueError, match="class_shares"):
        write_scenes(tmp_path / "x", seed=1, class_shares=(0.5, 0.5))
    assert not (tmp_path / "x").exists()


def test_save_an_example_scene(dataset):
    """A val scene with many objects, its boxes drawn, for a person to
    look at: tests/artifacts/detection_scene.png."""
    root, _, _, _ = dataset
    image = max(
        images(root, "val"), key=lambda name: len(labels_of(root, name))
    )
    scale = 2
    with Image.open(root / image) as scene:
        picture = scene.resize(
            (WIDTH * scale, HEIGHT * scale), Image.Resampling.NEAREST
        )
    draw = ImageDraw.Draw(picture)
    for name, box in labels_of(root, image):
        x0, y0, x1, y1 = corners(box) * scale
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), outline="lime", width=2)
        draw.text((x0 + 2, y0 - 12), name, fill="lime")
    ARTIFACTS.mkdir(exist_ok=True)
    picture.save(ARTIFACTS / "detection_scene.png")
    assert len(labels_of(root, image)) >= 5
