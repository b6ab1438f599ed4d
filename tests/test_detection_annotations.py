"""The detection annotation readers (YOLO, Pascal VOC, COCO) on real
files, each bad box or file quarantined, and on the real BCCD set."""

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from core.dataset.etl.dataset_layout import DatasetError, QuarantinedFile
from tasks.detection.annotations import scan_detection_dataset
from tasks.detection.annotations.yolo import label_path
from tasks.detection.boxes import AnnotatedImage, Box, DetectionScan

BCCD = (
    Path(__file__).parents[1] / ".." / "shared" / "datasets" / "bccd"
).resolve()
SPLITS = ("train", "val")
FIX_BOX = "redraw the box around the object, or delete it"
FIX_FILE = "correct the file, or export it again from the annotation tool"


def write_image(path: Path) -> None:
    """A real 64x48 image file, PNG or JPEG by its extension: a
    gradient."""
    pixels = np.zeros((48, 64, 3), np.uint8)
    pixels[..., 0] = np.linspace(0, 255, 64, dtype=np.uint8)
    pixels[..., 1] = np.linspace(0, 255, 48, dtype=np.uint8)[:, None]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def scan(root: Path, **options: Any) -> DetectionScan:
    return scan_detection_dataset(str(root), SPLITS, **options)


def assert_boxes(image: AnnotatedImage, expected: list[Box]) -> None:
    assert [b.class_name for b in image.boxes] == [
        b.class_name for b in expected
    ]
    for box, want in zip(image.boxes, expected, strict=True):
        assert (box.xmin, box.ymin, box.xmax, box.ymax) == pytest.approx(
            (want.xmin, want.ymin, want.xmax, want.ymax), abs=1e-9
        )


# Pascal VOC


def voc_xml(
    objects: list[tuple[str, tuple[object, ...]]],
    size: str = "<size><width>64</width><height>48</height></size>",
) -> str:
    """An annotation with one <object> per (name, corners); a corner
    None is left out."""
    parts = []
    for name, corners in objects:
        fields = "".join(
            f"<{tag}>{value}</{tag}>"
            for tag, value in zip(
                ("xmin", "ymin", "xmax", "ymax"), corners, strict=True
            )
            if value is not None
        )
        parts.append(
            f"<object><name>{name}</name><difficult>0</difficult>"
            f"<bndbox>{fields}</bndbox></object>"
        )
    return f"<annotation>{size}{''.join(parts)}</annotation>"


def voc_dataset(
    root: Path,
    annotations: dict[str, str | None],
    splits: dict[str, list[str]],
    image_ids: list[str] | None = None,
) -> Path:
    """VOC files: an XML per id of `annotations` (None: no XML), a JPEG
    per id of `image_ids` (all of `annotations` by default), the split
    lists."""
    for image_id in annotations if image_ids is None else image_ids:
        write_image(root / "JPEGImages" / f"{image_id}.jpg")
    for image_id, xml in annotations.items():
        if xml is not None:
            write(root / "Annotations" / f"{image_id}.xml", xml)
    for folder in ("JPEGImages", "Annotations"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for split, ids in splits.items():
        write(root / "ImageSets" / "Main" / f"{split}.txt", "\n".join(ids))
    return root


def test_voc_boxes_are_normalised_from_1_based_inclusive_pixels(tmp_path):
    root = voc_dataset(
        tmp_path,
        {
            "a": voc_xml([("dog", (1, 1, 64, 48)), ("cat", (17, 13, 32, 24))]),
            "b": "<annotation></annotation>",  # no <size>, as no <object>
            "c": voc_xml([("cat", (33, 25, 64, 48)), ("dog", (1, 1, 2, 2))]),
        },
        {"train": ["b", "a"], "val": ["c"]},
    )
    result = scan(root)
    assert result.classes == ("cat", "dog")  # the names found, sorted
    assert result.splits == SPLITS
    assert [
        (i.split, i.path, i.annotation_path, i.stated_size)
        for i in result.images
    ] == [
        ("train", "JPEGImages/a.jpg", "Annotations/a.xml", (64, 48)),
        ("train", "JPEGImages/b.jpg", "Annotations/b.xml", None),
        ("val", "JPEGImages/c.jpg", "Annotations/c.xml", (64, 48)),
    ]
    a, b, c = result.images
    assert_boxes(a, [Box("dog", 0, 0, 1, 1), Box("cat", 0.25, 0.25, 0.5, 0.5)])
    assert b.boxes == ()  # a background image
    assert_boxes(
        c,
        [Box("cat", 0.5, 0.5, 1, 1), Box("dog", 0, 0, 2 / 64, 2 / 48)],
    )
    assert result.quarantined == ()
    assert result.warnings == ()


def test_voc_bad_boxes_are_quarantined_and_their_image_kept(tmp_path):
    xml = voc_xml(
        [
            ("dog", (10, 10, 20, 20)),
            ("dog", (245, 10, 245, 20)),
            ("dog", (30, 20, 10, 40)),
            ("cat", (10, 10, 70, 20)),
            ("cat", (0, 0, 65, 49)),  # within the one-pixel tolerance
            ("bird", (10, 10, 20, 20)),
            ("dog", (10, 10, 20, None)),
            ("dog", (10, "ten", 20, 20)),
            ("", (10, 10, 20, 20)),
        ]
    ).replace(
        "<object><name>dog</name><difficult>0</difficult>",
        "<object><name>dog</name><difficult>1</difficult>",
        1,
    )
    xml = xml.replace(
        "</annotation>", "<object><name>dog</name></object></annotation>"
    )
    root = voc_dataset(
        tmp_path,
        {"a": xml, "b": voc_xml([("cat", (1, 1, 8, 8))])},
        {"train": ["a"], "val": ["b"]},
    )
    result = scan(root, class_names=("dog", "cat"))
    assert result.classes == ("dog", "cat")  # as params.yaml orders them
    a = result.images[0]
    # The difficult box is kept.
    assert_boxes(
        a,
        [
            Box("dog", 9 / 64, 9 / 48, 20 / 64, 20 / 48),
            Box("cat", 0, 0, 1, 1),
        ],
    )
    path = "Annotations/a.xml"
    fix_bndbox = (
        "give the <object> a <bndbox> with <xmin>, <ymin>, <xmax> and"
        " <ymax> in pixels, or delete it"
    )
    assert result.quarantined == (
        QuarantinedFile(
            path, "box 2 (dog): zero area, xmin = xmax = 245", FIX_BOX
        ),
        QuarantinedFile(path, "box 3 (dog): xmin 30 > xmax 10", FIX_BOX),
        QuarantinedFile(
            path,
            "box 4 (cat): outside the 64x48 image: xmax = 70 > 64",
            "redraw the box inside the 64x48 image, or correct the size the"
            " file states if the image was resized",
        ),
        QuarantinedFile(
            path,
            "box 6 (bird): class 'bird' is not one of the classes of"
            " params.yaml (dog, cat)",
            "relabel the box with one of those classes, or add 'bird' to them",
        ),
        QuarantinedFile(
            path, "box 7 (dog): <bndbox> has no <ymax>", fix_bndbox
        ),
        QuarantinedFile(
            path,
            "box 8 (dog): <ymin> is 'ten', not a number",
            "write <ymin> in pixels",
        ),
        QuarantinedFile(
            path,
            "box 9: no <name>",
            "write the object's class in <name>, or delete it",
        ),
        QuarantinedFile(path, "box 10 (dog): no <bndbox>", fix_bndbox),
    )
    assert result.warnings == ("val: no boxes of class dog",)


def test_voc_bad_files_are_quarantined_and_left_out(tmp_path):
    root = voc_dataset(
        tmp_path,
        {
            "good": voc_xml([("cat", (1, 1, 8, 8))]),
            "broken": "<annotation><size></annotation>",
            "foreign": "<html></html>",
            "sizeless": voc_xml([("cat", (1, 1, 8, 8))], size=""),
            "no_xml": None,
            "no_image": voc_xml([]),
            "gif": voc_xml([]),
            # Not in a split list: these two and the image "extra".
            "unlisted": voc_xml([]),
            "unlisted_xml": voc_xml([]),
        },
        {
            "train": ["good", "broken", "foreign", "sizeless"],
            "val": ["no_xml", "no_image", "gif", "neither"],
        },
        image_ids=[
            "good",
            "broken",
            "foreign",
            "sizeless",
            "no_xml",
            "unlisted",
            "extra",
        ],
    )
    (root / "JPEGImages" / "gif.gif").write_bytes(b"GIF89a")
    write_image(root / "JPEGImages" / "good.png")
    (root / "JPEGImages" / ".DS_Store").write_bytes(b"")
    result = scan(root)
    assert [i.path for i in result.images] == ["JPEGImages/good.jpg"]
    assert result.splits == ("train",)
    assert result.quarantined == (
        QuarantinedFile(
            "Annotations/broken.xml",
            "malformed XML (mismatched tag: line 1, column 20)",
            FIX_FILE,
        ),
        QuarantinedFile(
            "Annotations/foreign.xml",
            "not a Pascal VOC annotation: its root is <html>, not"
            " <annotation>",
            FIX_FILE,
        ),
        QuarantinedFile(
            "Annotations/no_image.xml",
            "no image JPEGImages/no_image.jpg (or .jpeg, .png) for it",
            "add the image, or delete the file and the id's line in"
            " ImageSets/Main/val.txt",
        ),
        QuarantinedFile(
            "Annotations/sizeless.xml",
            "no <size> with whole, positive <width> and <height>, so its"
            " pixel boxes cannot be normalised",
            "add <size><width>W</width><height>H</height></size> with the"
            " image's size in pixels",
        ),
        QuarantinedFile(
            "ImageSets/Main/val.txt",
            "id neither: neither JPEGImages/neither.jpg nor"
            " Annotations/neither.xml exists",
            "add the image and its annotation file, or delete the line",
        ),
        QuarantinedFile(
            "JPEGImages/gif.gif",
            "not an image file name (expected .png, .jpg or .jpeg)",
            "re-export it as PNG or JPEG, or move it out of the dataset",
        ),
        QuarantinedFile(
            "JPEGImages/good.png",
            "a second image of id good, beside JPEGImages/good.jpg",
            "rename or delete one of them",
        ),
        QuarantinedFile(
            "JPEGImages/no_xml.jpg",
            "no annotation file Annotations/no_xml.xml",
            "if it is a background image, add Annotations/no_xml.xml without"
            " <object>; else annotate it",
        ),
    )
    assert result.warnings == (
        "skipped, as operating-system files and not data:"
        " JPEGImages/.DS_Store",
        "JPEGImages/, Annotations/: the files of 3 ids listed in none of"
        " ImageSets/Main/train.txt, ImageSets/Main/val.txt; not converted:"
        " add the ids to a split list to use them",
        "val: no usable images (see the quarantine); the split is left out",
    )


def test_voc_split_without_list_is_a_warning(tmp_path):
    root = voc_dataset(
        tmp_path, {"a": voc_xml([("cat", (1, 1, 8, 8))])}, {"train": ["a"]}
    )
    result = scan(root)
    assert result.splits == ("train",)
    assert result.warnings == (
        "ImageSets/Main/val.txt: no such file; the split 'val' is left out",
    )


# YOLO


def yolo_dataset(
    root: Path,
    labels: dict[str, str | None],
    data_yaml: str = "names: [cat, dog]\n",
) -> Path:
    """An image per key of `labels` ("train/a.jpg" → images/train/a.jpg)
    with its label file in labels/ (None: none), and data.yaml."""
    write(root / "data.yaml", data_yaml)
    for name, label in labels.items():
        write_image(root / "images" / name)
        if label is not None:
            write(root / label_path(f"images/{name}"), label)
    return root


def test_yolo_boxes_are_corners_of_centre_and_size(tmp_path):
    root = yolo_dataset(
        tmp_path,
        {
            "train/a.jpg": "1 0.5 0.5 0.25 0.5\n0 0.25 0.25 0.5 0.5\n",
            "train/b.png": "",
            "val/c.jpg": "\n0 0.75 0.75 0.5 0.5\n\n",
        },
    )
    result = scan(root)
    assert result.classes == ("cat", "dog")
    assert [
        (i.split, i.path, i.annotation_path, i.stated_size)
        for i in result.images
    ] == [
        ("train", "images/train/a.jpg", "labels/train/a.txt", None),
        ("train", "images/train/b.png", "labels/train/b.txt", None),
        ("val", "images/val/c.jpg", "labels/val/c.txt", None),
    ]
    a, b, c = result.images
    assert_boxes(
        a,
        [Box("dog", 0.375, 0.25, 0.625, 0.75), Box("cat", 0, 0, 0.5, 0.5)],
    )
    assert b.boxes == ()  # an empty label file: a background image
    assert_boxes(c, [Box("cat", 0.5, 0.5, 1, 1)])
    assert result.quarantined == ()
    assert result.warnings == ("val: no boxes of class dog",)


def test_yolo_folders_come_from_data_yaml(tmp_path):
    """Roboflow's layout: split/images and split/labels, named from
    data.yaml as ../split/images; names as {id: name}; folder lists."""
    write(
        tmp_path / "data.yaml",
        "train: ../train/images\n"
        "val: [../valid/images, extra/images, gone/images]\n"
        "test: ../test/images\n"
        "names: {0: RBC, 2: WBC}\n",
    )
    for folder, label in (
        ("train", "2 0.5 0.5 0.5 0.5"),
        ("valid", "0 0.5 0.5 1 1"),
        ("extra", ""),
    ):
        write_image(tmp_path / folder / "images" / "x.jpg")
        write(tmp_path / folder / "labels" / "x.txt", label)
    result = scan_detection_dataset(str(tmp_path), ("train", "val", "test"))
    assert result.classes == ("RBC", "WBC")
    assert [(i.split, i.path, i.annotation_path) for i in result.images] == [
        ("train", "train/images/x.jpg", "train/labels/x.txt"),
        ("val", "extra/images/x.jpg", "extra/labels/x.txt"),
        ("val", "valid/images/x.jpg", "valid/labels/x.txt"),
    ]
    assert_boxes(result.images[0], [Box("WBC", 0.25, 0.25, 0.75, 0.75)])
    assert_boxes(result.images[2], [Box("RBC", 0, 0, 1, 1)])
    assert result.warnings == (
        f"val: no image folder gone/images inside {tmp_path} (data.yaml's"
        " 'val'); those are left out",
        f"test: no image folder ../test/images inside {tmp_path}"
        " (data.yaml's 'test'); the split is left out",
        "train: no boxes of class RBC",
        "val: no boxes of class WBC",
    )


def test_yolo_path_key_names_the_dataset_folder(tmp_path):
    write(tmp_path / "data.yaml", "path: sets/one\nnames: [cat]\n")
    write_image(tmp_path / "sets/one/images/train/a.jpg")
    write(tmp_path / "sets/one/labels/train/a.txt", "0 0.5 0.5 0.5 0.5")
    result = scan_detection_dataset(str(tmp_path), ("train",))
    assert [i.path for i in result.images] == ["sets/one/images/train/a.jpg"]
    # Where the dataset was made: read from the root instead.
    write(
        tmp_path / "data.yaml",
        "path: /content/one\ntrain: sets/one/images/train\nnames: [cat]",
    )
    result = scan_detection_dataset(str(tmp_path), ("train",))
    assert [i.path for i in result.images] == ["sets/one/images/train/a.jpg"]
    assert result.warnings == (
        f"data.yaml: path '/content/one' is not a folder inside {tmp_path};"
        f" the split folders are read from {tmp_path}",
    )


def test_yolo_bad_boxes_are_quarantined_and_their_image_kept(tmp_path):
    root = yolo_dataset(
        tmp_path,
        {
            "train/a.jpg": "0 0.5 0.5 0.2 0.2\n"
            "0 0.5 0.5 0 0.2\n"  # zero area
            "1 0.95 0.5 0.2 0.2\n"  # xmax 1.05
            "1 -0.05 0.5 0.2 0.2\n"  # xmin -0.15
            "1 0.9 0.5 0.2002 0.2\n"  # xmax 1.0001, within the tolerance
            "5 0.5 0.5 0.2 0.2\n"  # no class 5
            "2 0.5 0.5 0.2 0.2\n"  # bird, not in params.yaml's classes
            "0 1.0004 0.5 0.0004 0.2\n",  # on the border, in the tolerance
            "val/b.jpg": "",
        },
        data_yaml="names: [cat, dog, bird]\n",
    )
    result = scan(root, class_names=("cat", "dog"))
    assert result.classes == ("cat", "dog")
    assert_boxes(
        result.images[0],
        [Box("cat", 0.4, 0.4, 0.6, 0.6), Box("dog", 0.7999, 0.4, 1, 0.6)],
    )
    path = "labels/train/a.txt"
    outside = (
        "redraw the box inside the image: cx - w/2, cx + w/2, cy - h/2 and"
        " cy + h/2 within 0..1 (a label in pixels must be divided by the"
        " image's size)"
    )
    assert result.quarantined == (
        QuarantinedFile(
            path, "line 2 (cat): zero area, xmin = xmax = 0.5", FIX_BOX
        ),
        QuarantinedFile(
            path,
            "line 3 (dog): outside the image (0..1): xmax = 1.05 > 1",
            outside,
        ),
        QuarantinedFile(
            path,
            "line 4 (dog): outside the image (0..1): xmin = -0.15 < 0",
            outside,
        ),
        QuarantinedFile(
            path,
            "line 6: class id 5 is not in data.yaml's names (ids 0, 1, 2)",
            "relabel the box with one of those ids, or add the class to"
            " data.yaml's names",
        ),
        QuarantinedFile(
            path,
            "line 7 (bird): class 'bird' is not one of the classes of"
            " params.yaml (cat, dog)",
            "relabel the box with one of those classes, or add 'bird' to them",
        ),
        QuarantinedFile(
            path,
            "line 8 (cat): zero area inside the image, on its border",
            FIX_BOX,
        ),
    )


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("0 0.5 0.5 0.2", "4 fields, expected 5 (class cx cy w h)"),
        ("0 0.5 0.5 0.2 0.2 0.3", "6 fields, expected 5 (class cx cy w h)"),
        ("0 0.5 half 0.2 0.2", "'half' is not a number"),
        ("0 0.5 nan 0.2 0.2", "'nan' is not a number"),
        ("1.5 0.5 0.5 0.2 0.2", "class id '1.5' is not a whole number"),
    ],
)
def test_yolo_malformed_line_quarantines_its_file(tmp_path, line, error):
    root = yolo_dataset(
        tmp_path,
        {
            "train/a.jpg": f"0 0.5 0.5 0.2 0.2\n{line}\n",
            "train/b.jpg": "0 0.5 0.5 0.2 0.2",
        },
    )
    result = scan(root)
    assert [i.path for i in result.images] == ["images/train/b.jpg"]
    assert result.quarantined == (
        QuarantinedFile(
            "labels/train/a.txt",
            f"line 2: {error}",
            "write each line as `class cx cy w h`: a class id of data.yaml's"
            " names, then the box's centre and size as numbers from 0 to 1",
        ),
    )


def test_yolo_images_and_labels_without_each_other(tmp_path):
    root = yolo_dataset(
        tmp_path,
        {"train/a.jpg": "0 0.5 0.5 0.2 0.2", "train/no_label.jpg": None},
    )
    write(root / "labels/train/orphan.txt", "0 0.5 0.5 0.2 0.2")
    write(root / "labels/train/classes.txt", "cat\ndog\n")  # LabelImg's
    write(root / "images/train/notes.txt", "taken on Monday")
    (root / "images/train/.DS_Store").write_bytes(b"")
    result = scan(root)
    assert [i.path for i in result.images] == ["images/train/a.jpg"]
    assert result.quarantined == (
        QuarantinedFile(
            "images/train/no_label.jpg",
            "no label file labels/train/no_label.txt",
            "if it is a background image, add an empty"
            " labels/train/no_label.txt; else annotate it",
        ),
        QuarantinedFile(
            "images/train/notes.txt",
            "not an image file name (expected .png, .jpg or .jpeg)",
            "re-export it as PNG or JPEG, or move it out of the dataset",
        ),
        QuarantinedFile(
            "labels/train/orphan.txt",
            "a label file without its image in images/train/",
            "add the image (.png, .jpg or .jpeg), or delete the label file",
        ),
    )
    assert result.warnings == (
        "skipped, as operating-system files and not data:"
        " images/train/.DS_Store",
        f"val: no image folder images/val inside {root} (the default, as"
        " data.yaml names none); the split is left out",
        "train: no boxes of class dog",
    )


def test_yolo_labels_beside_images(tmp_path):
    """Without an images/ folder in the path, ultralytics looks for the
    label beside the image."""
    write(tmp_path / "data.yaml", "train: pics\nnames: [cat]\n")
    write_image(tmp_path / "pics" / "a.jpg")
    write(tmp_path / "pics" / "a.txt", "0 0.5 0.5 0.5 0.5")
    write(tmp_path / "pics" / "lost.txt", "0 0.5 0.5 0.5 0.5")
    result = scan_detection_dataset(str(tmp_path), ("train",))
    assert [(i.path, i.annotation_path) for i in result.images] == [
        ("pics/a.jpg", "pics/a.txt")
    ]
    assert [q.path for q in result.quarantined] == ["pics/lost.txt"]


@pytest.mark.parametrize(
    ("data_yaml", "error"),
    [
        ("train: images/train\n", "no class names"),
        ("names: []\n", "no class names"),
        ("names: [cat\n", "malformed YAML"),
        ("- cat\n", "not a mapping of keys"),
    ],
)
def test_yolo_unusable_data_yaml_is_an_error(tmp_path, data_yaml, error):
    root = yolo_dataset(tmp_path, {"train/a.jpg": ""}, data_yaml=data_yaml)
    with pytest.raises(DatasetError, match=error):
        scan(root)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 0.99),
            st.floats(0, 0.99),
            st.floats(0.01, 1),
            st.floats(0.01, 1),
        ).map(
            lambda b: (
                b[0],
                b[1],
                min(b[0] + b[2], 1.0),
                min(b[1] + b[3], 1.0),
            )
        ),
        max_size=5,
    )
)
def test_yolo_round_trip_of_normalised_boxes(corners):
    """Boxes written as YOLO lines read back as the same corners."""
    lines = "".join(
        f"0 {(x0 + x1) / 2!r} {(y0 + y1) / 2!r} {x1 - x0!r} {y1 - y0!r}\n"
        for x0, y0, x1, y1 in corners
    )
    with tempfile.TemporaryDirectory() as folder:
        root = yolo_dataset(
            Path(folder), {"train/a.png": lines}, data_yaml="names: [cat]"
        )
        result = scan_detection_dataset(str(root), ("train",))
    assert result.quarantined == ()
    assert_boxes(result.images[0], [Box("cat", *c) for c in corners])


# COCO


CATEGORIES = ({"id": 2, "name": "dog"}, {"id": 1, "name": "cat"})


def coco(
    images: list[tuple[int, str]],
    annotations: list[dict[str, object]],
    categories: tuple[dict[str, object], ...] = CATEGORIES,
) -> dict[str, list[Any]]:
    """A COCO file's content: 64x48 images, annotations numbered from 1."""
    return {
        "images": [
            {"id": i, "file_name": name, "width": 64, "height": 48}
            for i, name in images
        ],
        "annotations": [
            {"id": n, "iscrowd": 0, **a} for n, a in enumerate(annotations, 1)
        ],
        "categories": list(categories),
    }


def write_json(path: Path, content: object) -> None:
    write(path, json.dumps(content))


def box(image_id: int, category_id: int, bbox: list[float]) -> dict:
    return {"image_id": image_id, "category_id": category_id, "bbox": bbox}


def test_coco_instances_layout(tmp_path):
    write_image(tmp_path / "train" / "a.jpg")
    write_image(tmp_path / "train" / "sub" / "b.png")
    write_image(tmp_path / "images" / "val" / "c.jpg")
    write_json(
        tmp_path / "annotations" / "instances_train.json",
        coco(
            [(7, "a.jpg"), (8, "sub/b.png")],
            [box(7, 2, [16, 12, 16, 12]), box(7, 1, [0, 0, 64, 48])],
        ),
    )
    write_json(
        tmp_path / "annotations" / "instances_val.json",
        coco([(1, "c.jpg")], [box(1, 1, [32, 24, 32.0, 24.0])]),
    )
    result = scan(tmp_path)
    assert result.classes == ("cat", "dog")  # the categories by id
    json_train = "annotations/instances_train.json"
    assert [
        (i.split, i.path, i.annotation_path, i.stated_size)
        for i in result.images
    ] == [
        ("train", "train/a.jpg", json_train, (64, 48)),
        ("train", "train/sub/b.png", json_train, (64, 48)),
        (
            "val",
            "images/val/c.jpg",
            "annotations/instances_val.json",
            (64, 48),
        ),
    ]
    a, b, c = result.images
    assert_boxes(a, [Box("dog", 0.25, 0.25, 0.5, 0.5), Box("cat", 0, 0, 1, 1)])
    assert b.boxes == ()  # an entry without annotations: background
    assert_boxes(c, [Box("cat", 0.5, 0.5, 1, 1)])
    assert result.quarantined == ()
    assert result.warnings == ("val: no boxes of class dog",)


def test_coco_roboflow_layout_crowds_and_groups(tmp_path):
    """Roboflow's export: a JSON beside each split's images, with the
    dataset's name as a category of its own."""
    categories = (
        {"id": 0, "name": "cells", "supercategory": "none"},
        {"id": 1, "name": "RBC", "supercategory": "cells"},
        {"id": 2, "name": "WBC", "supercategory": "cells"},
    )
    for split in ("train", "val"):
        write_image(tmp_path / split / "x.jpg")
        write_json(
            tmp_path / split / "_annotations.coco.json",
            coco(
                [(0, "x.jpg")],
                [
                    box(0, 1, [0, 0, 32, 24]),
                    box(0, 2, [32, 24, 32, 24]),
                    {**box(0, 1, [0, 0, 64, 48]), "iscrowd": 1},
                ],
                categories,
            ),
        )
    result = scan(tmp_path)
    assert result.classes == ("RBC", "WBC")
    assert [i.path for i in result.images] == ["train/x.jpg", "val/x.jpg"]
    assert_boxes(
        result.images[1],
        [Box("RBC", 0, 0, 0.5, 0.5), Box("WBC", 0.5, 0.5, 1, 1)],
    )
    assert result.quarantined == ()
    assert result.warnings == (
        "train/_annotations.coco.json: 1 crowd annotations (iscrowd 1) left"
        " out: a region around many objects is not one object's box",
        "val/_annotations.coco.json: 1 crowd annotations (iscrowd 1) left"
        " out: a region around many objects is not one object's box",
        "categories cells: left out of the classes, as each is the"
        " supercategory of others and has no boxes (a group, not a class)",
    )


def test_coco_bad_annotations_are_quarantined(tmp_path):
    write_image(tmp_path / "train" / "a.jpg")
    write_image(tmp_path / "train" / "b.jpg")
    write_image(tmp_path / "train" / "not_listed.jpg")
    write_image(tmp_path / "train" / "sizeless.jpg")
    content = coco(
        [(1, "a.jpg"), (2, "missing.jpg"), (3, "b.jpg")],
        [
            box(1, 1, [10, 10, 20, 20]),
            box(1, 1, [245, 10, 0, 20]),  # zero area
            box(1, 2, [50, 10, 20, 20]),  # xmax 70
            box(1, 2, [-0.5, 10, 20, 38.5]),  # within the tolerance
            box(1, 9, [10, 10, 20, 20]),  # no category 9
            box(99, 1, [10, 10, 20, 20]),  # no image 99
            box(2, 1, [10, 10, 20, 20]),  # of missing.jpg: left out with it
            box(3, 1, [10, 10, 20]),
        ],
    )
    content["images"].insert(0, {"id": 4, "file_name": "sizeless.jpg"})
    content["annotations"] += [
        "a box",
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 0, 5]},  # no id
    ]
    write_json(tmp_path / "annotations" / "instances_train.json", content)
    write(tmp_path / "annotations" / "instances_val.json", '{"images": [')
    write_image(tmp_path / "val" / "c.jpg")
    result = scan(tmp_path)
    assert [i.path for i in result.images] == ["train/a.jpg", "train/b.jpg"]
    assert_boxes(
        result.images[0],
        [
            Box("cat", 10 / 64, 10 / 48, 30 / 64, 30 / 48),
            Box("dog", 0, 10 / 48, 19.5 / 64, 1),
        ],
    )
    assert result.images[1].boxes == ()
    path = "annotations/instances_train.json"
    fix_entry = "correct the entry: id, file_name, width and height in pixels"
    assert result.quarantined == (
        QuarantinedFile(
            path,
            "images[0]: no whole id, file_name, width and height",
            fix_entry,
        ),
        QuarantinedFile(
            path,
            "images[2]: id 2: no image file train/missing.jpg",
            "add the image, or delete the entry and its annotations",
        ),
        QuarantinedFile(
            path, "annotation 2 (cat): zero area, xmin = xmax = 245", FIX_BOX
        ),
        QuarantinedFile(
            path,
            "annotation 3 (dog): outside the 64x48 image: xmax = 70 > 64",
            "redraw the box inside the 64x48 image, or correct the size the"
            " file states if the image was resized",
        ),
        QuarantinedFile(
            path,
            "annotation 5: category id 9 is not in categories",
            "relabel it with one of the category ids, or add the category",
        ),
        QuarantinedFile(
            path,
            "annotation 6 (cat): image id 99 is not in images",
            "delete the annotation, or add its image to images",
        ),
        QuarantinedFile(
            path,
            "annotation 8 (cat): bbox is [10, 10, 20], not [x, y, width,"
            " height] in pixels",
            "write its bbox as [x, y, width, height] in pixels, or delete it",
        ),
        QuarantinedFile(path, "annotations[8]: not a JSON object", FIX_FILE),
        QuarantinedFile(
            path, "annotations[9] (cat): zero area, xmin = xmax = 0", FIX_BOX
        ),
        QuarantinedFile(
            "annotations/instances_val.json",
            "malformed JSON (Expecting value: line 1 column 13 (char 12))",
            FIX_FILE,
        ),
        QuarantinedFile(
            "train/not_listed.jpg",
            "not in annotations/instances_train.json",
            "add it to the images of annotations/instances_train.json, with"
            " no annotations if it is a background image, or delete it",
        ),
    )
    assert result.splits == ("train",)
    assert result.warnings == (
        "val: no usable images (see the quarantine); the split is left out",
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ([], "not a COCO file: not a JSON object"),
        (
            {"images": [], "categories": []},
            "not a COCO file: no 'annotations' list",
        ),
        (
            {"images": [], "annotations": [], "categories": [{"id": "1"}]},
            "categories[0] has no whole id and name",
        ),
    ],
)
def test_coco_file_that_is_not_coco_is_quarantined(tmp_path, content, reason):
    write_image(tmp_path / "train" / "a.jpg")
    write_json(tmp_path / "annotations" / "instances_train.json", content)
    write_image(tmp_path / "val" / "b.jpg")
    write_json(
        tmp_path / "annotations" / "instances_val.json",
        coco([(1, "b.jpg")], []),
    )
    result = scan(tmp_path)
    assert [i.path for i in result.images] == ["val/b.jpg"]
    assert result.quarantined == (
        QuarantinedFile("annotations/instances_train.json", reason, FIX_FILE),
    )


def test_coco_splits_without_files_and_repeated_ids(tmp_path):
    write_image(tmp_path / "train" / "a.jpg")
    write_json(
        tmp_path / "annotations" / "instances_train.json",
        coco([(1, "a.jpg"), (1, "a.jpg")], [box(1, 1, [0, 0, 8, 8])]),
    )
    write_json(tmp_path / "annotations" / "instances_val.json", coco([], []))
    result = scan_detection_dataset(str(tmp_path), ("train", "val", "test"))
    assert len(result.images) == 1
    assert result.quarantined == (
        QuarantinedFile(
            "annotations/instances_train.json",
            "images[1]: a second image with id 1",
            "correct the entry: id, file_name, width and height in pixels",
        ),
    )
    assert result.warnings == (
        "annotations/instances_val.json: no image folder val/ or"
        " images/val/; the split 'val' is left out",
        "test: neither annotations/instances_test.json nor"
        " test/_annotations.coco.json; the split is left out",
        "train: no boxes of class dog",
    )


# The real BCCD set


def test_bccd(tmp_path):
    """364 microscope photographs in VOC layout: all read, but for its
    two zero-area boxes. Its many boxes with xmax = 640 or ymax = 480 end
    on the image's border, by VOC's 1-based inclusive pixels."""
    if not BCCD.is_dir():
        pytest.skip(f"{BCCD} is absent")
    result = scan_detection_dataset(str(BCCD), ("train", "val", "test"))
    assert result.splits == ("train", "val", "test")
    assert result.classes == ("Platelets", "RBC", "WBC")  # sorted
    assert [
        sum(i.split == s for i in result.images) for s in result.splits
    ] == [
        205,
        87,
        72,
    ]
    boxes = [b for i in result.images for b in i.boxes]
    assert len(boxes) == 4_888 - 2
    counts = {c: sum(b.class_name == c for b in boxes) for c in result.classes}
    assert counts == {"Platelets": 361, "RBC": 4_155 - 2, "WBC": 372}
    assert result.quarantined == (
        QuarantinedFile(
            "Annotations/BloodImage_00338.xml",
            "box 13 (RBC): zero area, xmin = xmax = 504",
            FIX_BOX,
        ),
        QuarantinedFile(
            "Annotations/BloodImage_00343.xml",
            "box 4 (RBC): zero area, xmin = xmax = 181",
            FIX_BOX,
        ),
    )
    assert result.warnings == ()
    assert {i.stated_size for i in result.images} == {(640, 480)}
    assert max(b.xmax for b in boxes) == 1.0
    assert min(b.xmin for b in boxes) == 0.0
    first = result.images[0]
    assert first.path == "JPEGImages/BloodImage_00001.jpg"
    # Its first <object>: WBC, xmin 68, ymin 315, xmax 286, ymax 480.
    assert first.boxes[0] == Box("WBC", 67 / 640, 314 / 480, 286 / 640, 1.0)


# Any format


def test_unknown_layout_is_an_error_naming_the_three(tmp_path):
    write_image(tmp_path / "train" / "cat" / "a.jpg")
    with pytest.raises(DatasetError) as error:
        scan(tmp_path)
    message = str(error.value)
    assert "no detection annotations found" in message
    for layout in ("YOLO (data.yaml", "Pascal VOC (Annotations/", "COCO ("):
        assert layout in message


def test_missing_folder_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match="no such folder"):
        scan(tmp_path / "nope")


def test_a_dataset_without_images_is_an_error(tmp_path):
    root = voc_dataset(tmp_path, {}, {"train": [], "val": []})
    with pytest.raises(DatasetError, match="no usable images in the splits"):
        scan(root)


def test_a_dataset_whose_images_are_all_quarantined_names_the_first(tmp_path):
    root = yolo_dataset(tmp_path, {"train/a.jpg": None})
    with pytest.raises(
        DatasetError,
        match=r"1 quarantined, the first: images/train/a\.jpg: no label file",
    ):
        scan(root)


def test_format_chosen_or_found(tmp_path):
    root = voc_dataset(
        tmp_path, {"a": voc_xml([("cat", (1, 1, 8, 8))])}, {"train": ["a"]}
    )
    with pytest.raises(DatasetError, match="not a coco dataset; lay it out"):
        scan(root, format="coco")
    with pytest.raises(DatasetError, match="expected auto, yolo, voc, coco"):
        scan(root, format="kitti")
    # YOLO labels beside the same images: both layouts are there.
    write(root / "data.yaml", "train: JPEGImages\nnames: [cat]\n")
    write(root / "JPEGImages" / "a.txt", "0 0.5 0.5 0.5 0.5")
    found = scan_detection_dataset(str(root), ("train",))
    assert found.images[0].annotation_path == "JPEGImages/a.txt"
    assert found.warnings == (
        f"{root}: annotations in the layouts yolo, voc; read as yolo: choose"
        " the format to read another",
    )
    chosen = scan_detection_dataset(str(root), ("train",), format="voc")
    assert chosen.images[0].annotation_path == "Annotations/a.xml"
    assert chosen.warnings == ()
