"""`dcp augment`: plan the new images, then write them as a new data
version and say what was done."""

from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from core.task import Task
from iteration.augmentation.dataset import read_dataset
from iteration.augmentation.last_evaluation import read_last_run
from iteration.augmentation.operations import check_settings, describe
from iteration.augmentation.plan import BALANCE, AugmentPlan, make_plan
from iteration.augmentation.writing import (
    LINEAGE_FILE,
    Generated,
    new_image_paths,
    read_generated,
    write_new_images,
)
from iteration.data_versions import (
    CHANGES_FILE,
    Change,
    DataVersion,
    ensure_recorded,
    next_tag,
    record_change,
    sole_writer,
)
from iteration.settings import AugmentConfig
from models.preprocessing import NUM_BUCKETS

SOURCE = "dcp augment"


def augment_folder(
    settings: AugmentConfig,
    *,
    data_dir: str,
    budget: int,
    pipeline_name: str,
    data_root: str,
    metadata: str,
    changelog: str,
    max_distance: float,
    dry_run: bool,
    task: Task,
    labels: Mapping[str, str] = {},
    wait: float | None = None,
) -> None:
    """Fill `data_dir`'s train split up to `budget` train + val images,
    aimed at the weak classes and slices of the latest run of
    `pipeline_name` (its ETL output `data_root`) in the MLMD database
    `metadata`, as a data version recorded in `changelog`; a new image is
    kept farther than `max_distance` from its parent and siblings where
    the draws allow. Print the plan only when `dry_run`. `labels` maps
    class folders to the labels the ETL gives them (etl.labels). `wait`:
    see data_versions.sole_writer."""
    check_settings(settings)

    def plan_now() -> tuple[AugmentPlan, np.random.Generator]:
        return _plan(
            settings,
            data_dir,
            budget,
            pipeline_name,
            data_root,
            metadata,
            labels,
        )

    if dry_run:
        print(f"{plan_now()[0].format()}\nDry run: nothing written.")
        return
    # Planned under the lock: another writer may change the data first.
    with sole_writer(data_dir, wait=wait):
        plan, draw_rng = plan_now()
        print(plan.format())
        before = ensure_recorded(data_dir, changelog=changelog)
        tag = next_tag(data_dir)
        paths = new_image_paths(plan, data_dir, task)
        generated: list[Generated] = []

        def write() -> list[Change]:
            generated.extend(
                write_new_images(
                    plan,
                    data_dir,
                    paths=paths,
                    rng=draw_rng,
                    settings=settings,
                    max_distance=max_distance,
                    data_version=tag,
                )
            )
            return [change(image) for image in generated]

        version, _ = record_change(
            data_dir,
            command=f"dcp augment --budget {budget}",
            changelog=changelog,
            change=write,
            added=[path for new in paths.values() for path in new],
            appended=[LINEAGE_FILE],
        )
    print(summary(plan, generated, version, before=before, data_dir=data_dir))


def _plan(
    settings: AugmentConfig,
    data_dir: str,
    budget: int,
    pipeline_name: str,
    data_root: str,
    metadata: str,
    labels: Mapping[str, str],
) -> tuple[AugmentPlan, np.random.Generator]:
    """The plan, and the generator for its draws."""
    dataset = read_dataset(
        data_dir, generated=read_generated(data_dir), labels=labels
    )
    last_run = read_last_run(
        metadata,
        pipeline_name,
        data_root=data_root,
        classes=set(dataset.train_counts),
    )
    plan_rng, draw_rng = (
        np.random.default_rng(seed)
        for seed in np.random.SeedSequence(settings.seed).spawn(2)
    )
    plan = make_plan(
        dataset,
        budget=budget,
        weakness=last_run.weakness,
        note=last_run.note,
        weak_share=settings.weak_share,
        buckets=NUM_BUCKETS,
        rng=plan_rng,
        preference=last_run.preference,
    )
    return plan, draw_rng


def change(image: Generated) -> Change:
    return Change(
        action="augment",
        path="",
        new_path=image.path,
        reason=f"{describe(image.recipe)} of {image.parent.path}"
        f" ({image.reason})",
        source=SOURCE,
    )


def summary(
    plan: AugmentPlan,
    generated: list[Generated],
    version: DataVersion,
    *,
    before: str,
    data_dir: str,
) -> str:
    per_class = Counter(image.parent.label for image in generated)
    per_target = Counter(image.reason for image in generated)
    total = sum(plan.train_counts.values()) + plan.val_count + len(generated)
    lines = [
        f"Augmented {data_dir}: {len(generated):,} new train images; train"
        f" + val now {total:,} of the budget {plan.budget:,}.",
        "  per class: "
        + ", ".join(f"{name} +{n:,}" for name, n in sorted(per_class.items())),
    ]
    if plan.targets:
        lines.append(
            "  aimed at weak classes and slices: "
            + ", ".join(
                f"{target.label} +{per_target[target.label]:,}"
                for target in plan.targets
            )
            + f"; balance +{per_target[BALANCE]:,}"
        )
    close = sum(not image.distinct for image in generated)
    if close:
        lines.append(
            f"  {close:,} stayed near-duplicates of their parent or a"
            " sibling after every draw; the duplicate analysis will list"
            " them"
        )
    root = Path(data_dir)
    lines += [
        f"Data version: {version.tag} (commit {version.commit[:10]}; the"
        f" data before: {before})",
        f"Lineage: {root / LINEAGE_FILE}; changes: {root / CHANGES_FILE}",
    ]
    return "\n".join(lines)
