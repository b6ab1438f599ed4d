"""The plan: which train image each new image is made from, and why.
`dcp augment --dry-run` prints it; writing.py carries it out."""

import dataclasses
from collections import Counter, defaultdict

import numpy as np

from iteration.augmentation.allocation import (
    CLASS,
    SLICE,
    Target,
    Weakness,
    balance,
    new_image_count,
    slice_name,
    weak_count,
    weak_targets,
)
from iteration.augmentation.dataset import (
    Dataset,
    TrainImage,
    pick_parents,
    slice_parents,
)
from iteration.augmentation.parent_preference import LOW, ParentPreference
from models import features

BALANCE = "balance"


@dataclasses.dataclass(frozen=True)
class NewImage:
    parent: TrainImage
    reason: str  # a Target's label, e.g. "class 8", or BALANCE


@dataclasses.dataclass(frozen=True)
class AugmentPlan:
    budget: int
    train_counts: dict[str, int]  # before, per class
    val_count: int
    targets: tuple[Target, ...]  # weak classes and slices, worst first
    images: tuple[NewImage, ...]
    note: str  # whether and how the last evaluation was used
    left_out: dict[str, int]  # train images that are no parents, by why
    parents: str  # how the parents were chosen, in words

    def added(self) -> dict[str, Counter[str]]:
        """Class → reason → new images."""
        added: dict[str, Counter[str]] = defaultdict(Counter)
        for image in self.images:
            added[image.parent.label][image.reason] += 1
        return added

    def format(self) -> str:
        before = sum(self.train_counts.values()) + self.val_count
        lines = [
            f"{len(self.images):,} new train images: train + val"
            f" {before:,} → {before + len(self.images):,}"
            f" (budget {self.budget:,}).",
            f"Targeting: {self.note}.",
            f"Parents: {self.parents}.",
        ]
        for target in self.targets:
            lines.append(
                f"  {target.label}: accuracy {target.accuracy:.3f}"
                f" → {target.count:,} new images"
            )
        added = self.added()
        lines.append(
            f"Per class (balance fills the smallest first):\n"
            f"  {'class':<12}{'now':>7}{'weak class':>12}{'weak slices':>13}"
            f"{'balance':>9}{'after':>8}"
        )
        for name, count in self.train_counts.items():
            reasons = added.get(name, Counter())
            slices = sum(
                n for reason, n in reasons.items() if reason.startswith(SLICE)
            )
            lines.append(
                f"  {name:<12}{count:>7,}{reasons[f'{CLASS} {name}']:>12,}"
                f"{slices:>13,}{reasons[BALANCE]:>9,}"
                f"{count + sum(reasons.values()):>8,}"
            )
        after = [
            count + sum(added.get(name, Counter()).values())
            for name, count in self.train_counts.items()
        ]
        lines.append(
            f"Classes after: {min(after):,} to {max(after):,} images"
            f" ({max(after) / max(min(after), 1):.1f} times as many)."
        )
        if self.left_out:
            lines.append(
                "Train images that are no parents: "
                + ", ".join(f"{n} {why}" for why, n in self.left_out.items())
            )
        return "\n".join(lines)


def make_plan(
    dataset: Dataset,
    *,
    budget: int,
    weakness: Weakness | None,
    note: str,
    weak_share: float,
    buckets: int,
    rng: np.random.Generator,
    preference: ParentPreference | None = None,
) -> AugmentPlan:
    """Fill the budget: `weak_share` of the new images from the parents
    of the weak classes and slices, the rest balancing the classes.
    `buckets`: the Transform's quantile buckets per image property.
    `preference`: parents to draw first, else all alike."""

    def pick(candidates: list[TrainImage], count: int) -> list[TrainImage]:
        weights = None
        if preference is not None:
            weights = [preference.weight(c.path) for c in candidates]
        return pick_parents(rng, candidates, count, weights)

    new = new_image_count(
        budget=budget, train=dataset.train_count, val=dataset.val_count
    )
    by_class: dict[str, list[TrainImage]] = defaultdict(list)
    for parent in dataset.parents:
        by_class[parent.label].append(parent)
    targets: list[Target] = []
    in_slice: dict[str, list[TrainImage]] = {}
    if weakness is not None:
        for row in weakness.slices:
            if row.feature.removesuffix("_bucket") in features.PROPERTIES:
                in_slice[slice_name(row)] = slice_parents(
                    dataset, row.feature, row.value, buckets=buckets
                )
        targets = weak_targets(
            weakness,
            weak_count(new, weak_share),
            classes=set(by_class),
            slices={name for name, found in in_slice.items() if found},
        )
        if not targets:
            note += "; no class or slice is below the overall accuracy"
    images: list[NewImage] = []
    for target in targets:
        candidates = (
            in_slice[target.name]
            if target.kind == SLICE
            else by_class[target.name]
        )
        images += [
            NewImage(parent, target.label)
            for parent in pick(candidates, target.count)
        ]
    counts = Counter(dataset.train_counts)
    counts.update(image.parent.label for image in images)
    for name, count in balance(
        new - len(images), {name: counts[name] for name in sorted(by_class)}
    ).items():
        images += [
            NewImage(parent, BALANCE) for parent in pick(by_class[name], count)
        ]
    return AugmentPlan(
        budget=budget,
        train_counts=dataset.train_counts,
        val_count=dataset.val_count,
        targets=tuple(targets),
        images=tuple(images),
        note=note,
        left_out=dataset.left_out,
        parents=describe_parents(preference, dataset, images),
    )


def describe_parents(
    preference: ParentPreference | None,
    dataset: Dataset,
    images: list[NewImage],
) -> str:
    if preference is None:
        return "drawn alike (the latest run has no population table)"
    chosen = preference.low_share([image.parent.path for image in images])
    alike = preference.low_share([parent.path for parent in dataset.parents])
    return (
        "representative, non-redundant train images drawn first"
        f" ({preference.source}): {chosen:.0%} of the draws are of the"
        f" {LOW:.0%} rarest or most redundant images, against {alike:.0%}"
        " of the parents (the share drawn alike)"
    )
