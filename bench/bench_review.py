"""Benchmark the data-quality automation against human review
(`make bench-review`); results go in bench/RESULTS.md.

On dcai-roman (../shared/datasets/dcai-roman), scored against
review-half-a.csv, a consensus of human reviews of half of its images,
in one run:
  - the unit of cost: one training run of the fixed model, as the
    Trainer does it (train split, best checkpoint by val accuracy);
  - each label signal, and the mean of their probabilities: time, and
    the ranking's average precision and precision in the top 50 and 100
    of the reviewed images, against the reviewers' `issue`; for the
    auditor also each of its views alone;
  - the report's suggested actions (with the duplicate and image-property
    findings, as the pipeline makes them) against the reviewers'
    `action` and `label_after`;
  - the changes `dcp fix --accept-suggestions` would make, at
    fix.min_confidence and at other thresholds: the share that match the
    reviewers, the share that touch an image they keep, and the share of
    their issues covered. Removing the train copy of a train/val leak is
    counted apart: it is right whatever the label, and reviewers keep
    both copies.
Nothing in the dataset folder is changed. Without the folder it says so
and exits.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import csv
import json
import pickle
import platform
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf
from sklearn.metrics import average_precision_score
from training_run import train_fixed_model

from components.duplicates.finding import (
    duplicate_findings,
    find_duplicates,
    normalised_pixels,
)
from components.outliers.finding import property_findings
from components.quality_report.suggested_actions import (
    LabelEvidence,
    suggest_actions,
)
from core.dataset.etl.etl import run_etl
from core.findings.finding import RELABEL, REMOVE, Finding
from core.findings.issues_csv import (
    read_issues_csv,
    write_issues_csv,
)
from core.findings.types import EXACT_DUPLICATE, LABEL_ISSUE
from core.readers.example_tables import (
    RawTable,
    read_raw,
    sorted_by_path,
    split_of,
)
from dcp.config import load_config
from iteration.fixes.plan import FixStep, plan_fixes
from models.preprocessing import decode_and_resize
from models.registry import get_model_spec
from pipeline.console import configure_logging
from tasks.classification.label_issues.folds import FoldPlan, plan_folds
from tasks.classification.label_issues.ink_images import ink_crops
from tasks.classification.label_issues.out_of_sample import (
    AUDITOR,
    AUDITOR_IMAGE_SIZE,
    CROSS_TRAIN,
    PIXEL_PROBE,
    OutOfSample,
    out_of_sample,
)
from tasks.classification.label_issues.ranking import rank_labels

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "datasets" / "dcai-roman"
REVIEW = DATA / "review-half-a.csv"
SPLITS = ["train", "val"]
MODEL = "dcai_resnet50"
# name: (method, folds, epochs per fold); None: the configured folds, the
# method's default epochs. The auditor runs quality.label_rounds rounds,
# each scored as it ends.
SIGNALS = {
    "auditor": (AUDITOR, None, None),
    "cross_train": (CROSS_TRAIN, 5, 10),  # the former default
    "pixel_probe": (PIXEL_PROBE, None, None),
}
THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--train-epochs",
        type=int,
        help="epochs of the unit-of-cost training run, whose time is"
        " scaled to the model's own epochs (default: the model's own)",
    )
    parser.add_argument(
        "--signals",
        default="auditor,cross_train,pixel_probe",
        help="comma-separated signals to measure",
    )
    parser.add_argument(
        "--evidence",
        type=Path,
        help="a file that keeps the signals' evidence and the training"
        " run's time: saved there when absent, else read from it instead"
        " of training, to score rule changes in seconds",
    )
    parser.add_argument(
        "--seed-offset",
        type=int,
        default=0,
        help="added to the seeds of the folds and of the signals' training,"
        " to measure how much the figures move with them",
    )
    args = parser.parse_args()
    if not REVIEW.exists():
        print(f"{REVIEW} is absent: nothing to benchmark.")
        return
    configure_logging()
    config = load_config(REPO / "params.yaml")
    spec = get_model_spec(MODEL)
    review = {row["path"]: row for row in csv.DictReader(REVIEW.open())}
    with tempfile.TemporaryDirectory() as tmp:
        run_etl(
            str(DATA),
            tmp,
            splits=SPLITS,
            on_bad_file="skip",
            images_per_shard=config.etl.images_per_shard,
            parallel_from_images=config.etl.parallel_from_images,
        )
        table = sorted_by_path(
            read_raw([os.path.join(tmp, split) for split in SPLITS])
        )
    class_names = sorted(set(table.label_names), key=_class_index(table))
    labels = table.labels
    plan = plan_folds(
        labels, class_names, folds=config.quality.folds, seed=spec.seed
    )
    results: dict = {
        "machine": f"{platform.node()}, {os.cpu_count()} CPUs,"
        f" {platform.platform()}",
        "images": len(labels),
        "reviewed": sum(path in review for path in table.paths),
        "reviewed_issues": sum(
            review[p]["issue"] == "1" for p in table.paths if p in review
        ),
        "folds": len(plan.folds),
        "seed_offset": args.seed_offset,
    }
    fixed_inputs = decode_and_resize(
        tf.constant(table.pngs), spec.image_size, spec.channels
    ).numpy()
    saved = _read_evidence(args.evidence, table.paths)
    train_seconds = saved.get("training_run_seconds") or (
        _training_run_seconds(
            fixed_inputs, table, spec, args.train_epochs or spec.epochs
        )
    )
    saved["training_run_seconds"] = train_seconds
    results["training_run_seconds"] = round(train_seconds, 1)
    print(json.dumps(results), flush=True)

    probabilities, evidence = {}, {}
    for name in args.signals.split(","):
        method, folds, epochs = SIGNALS[name]
        rounds = config.quality.label_rounds if method == AUDITOR else 1
        inputs = (
            ink_crops(table.pngs, AUDITOR_IMAGE_SIZE)
            if method == AUDITOR
            else fixed_inputs
        )
        started, per_round = time.monotonic(), []
        for r in range(rounds):
            if (name, r) in saved:
                found, seconds = saved[(name, r)]
                per_round.append(found)
                started -= seconds  # as if it had run now
            else:
                round_started = time.monotonic()
                per_round.append(
                    out_of_sample(
                        method,
                        inputs,
                        labels,
                        plan_folds(
                            labels,
                            class_names,
                            folds=folds or config.quality.folds,
                            seed=spec.seed + args.seed_offset + r,
                        ),
                        spec=spec,
                        num_classes=len(class_names),
                        epochs=epochs,
                        seed=spec.seed + args.seed_offset + r,
                    )
                )
                saved[(name, r)] = (
                    per_round[-1],
                    time.monotonic() - round_started,
                )
            seconds = time.monotonic() - started
            label = name if r == 0 else f"{name}, {r + 1} rounds"
            evidence[label] = per_round[:]
            probabilities[label] = np.mean(
                [e.probabilities for e in per_round], axis=0
            )
            results[label] = {
                "seconds": round(seconds, 1),
                "training_runs": round(seconds / train_seconds, 2),
                **score_ranking(
                    table, labels, probabilities[label], plan, review
                ),
            }
            print(json.dumps({label: results[label]}), flush=True)
            # What each of the auditor's views adds, over the same rounds.
            for view in per_round[-1].views:
                averaged = np.mean([e.views[view] for e in per_round], axis=0)
                results[f"{label}: {view} alone"] = score_ranking(
                    table, labels, averaged, plan, review
                )
    if args.evidence:
        saved["paths"] = table.paths
        args.evidence.write_bytes(pickle.dumps(saved))
    if "auditor" in probabilities and "cross_train" in probabilities:
        mean = (probabilities["auditor"] + probabilities["cross_train"]) / 2
        results["auditor+cross_train"] = {
            "training_runs": round(
                results["auditor"]["training_runs"]
                + results["cross_train"]["training_runs"],
                2,
            ),
            **score_ranking(table, labels, mean, plan, review),
        }
    # The suggestions come from the configured signal, if it was measured.
    rounds = config.quality.label_rounds
    chosen = config.quality.label_method + (
        f", {rounds} rounds" if rounds > 1 else ""
    )
    if chosen not in probabilities:
        chosen = next(iter(probabilities))
    results["suggestions_from"] = chosen
    results["ranking_limits"] = ranking_limits(
        table, labels, probabilities[chosen], plan, review
    )
    distances = [
        e.atypicality for e in evidence[chosen] if e.atypicality is not None
    ]
    findings = pipeline_findings(
        table,
        probabilities[chosen],
        np.mean(distances, axis=0) if distances else None,
        [e.probabilities for e in evidence[chosen]],
        plan,
        class_names,
        config,
    )
    results["suggestions"] = score_suggestions(findings, review)
    results["accept_policy"] = {
        str(threshold): score_fixes(findings, review, threshold)
        for threshold in sorted({*THRESHOLDS, config.fix.min_confidence})
    }
    results["fix.min_confidence"] = config.fix.min_confidence
    print(json.dumps(results, indent=2))


def _read_evidence(path: Path | None, paths: Sequence[str]) -> dict:
    """What an earlier run saved at `path`: the training run's seconds,
    and by (signal, round) its evidence and seconds, in the row order of
    `paths`, whatever order it was saved in."""
    if path is None or not path.exists():
        return {}
    saved = pickle.loads(path.read_bytes())
    row = {p: i for i, p in enumerate(saved.pop("paths"))}
    order = np.array([row[p] for p in paths])
    for key, value in saved.items():
        if isinstance(value, tuple):
            found, seconds = value
            saved[key] = (
                OutOfSample(
                    found.probabilities[order],
                    None
                    if found.atypicality is None
                    else found.atypicality[order],
                    {name: v[order] for name, v in found.views.items()},
                ),
                seconds,
            )
    return saved


def _training_run_seconds(images, table: RawTable, spec, epochs: int) -> float:
    """Seconds of one training run of the fixed model at its own epochs,
    from `epochs` timed ones (scaled linearly when fewer)."""
    split = np.array([split_of(path) for path in table.paths])
    started = time.monotonic()
    train_fixed_model(images, table.labels, split, spec, epochs=epochs)
    return (time.monotonic() - started) * spec.epochs / epochs


def score_ranking(
    table: RawTable,
    labels: np.ndarray,
    probabilities: np.ndarray,
    plan: FoldPlan,
    review: dict,
) -> dict:
    """Average precision and precision at 50 and 100 of the ranking,
    over the reviewed images, against the reviewers' `issue`."""
    judged = np.flatnonzero(plan.judged)
    ranked = rank_labels(
        [table.paths[i] for i in judged], labels[judged], probabilities[judged]
    )
    reviewed = [r for r in ranked if r.path in review]
    truth = np.array([review[r.path]["issue"] == "1" for r in reviewed])
    scores = np.array([r.score for r in reviewed])
    return {
        "average_precision": round(
            float(average_precision_score(truth, scores)), 3
        ),
        "precision_at_50": round(float(truth[:50].mean()), 2),
        "precision_at_100": round(float(truth[:100].mean()), 2),
        "accuracy": round(
            float((probabilities[judged].argmax(1) == labels[judged]).mean()),
            3,
        ),
    }


def ranking_limits(
    table: RawTable,
    labels: np.ndarray,
    probabilities: np.ndarray,
    plan: FoldPlan,
    review: dict,
) -> dict:
    """What no accept policy can beat on this ranking, even one that took
    the most suspect reviewed images in order and always chose the
    reviewers' own action: how many images it must change to cover 40%
    of their issues, how many of those they keep, and the most issues
    it covers while at most 5% of its changes touch a kept image. And how
    many of the reviewers' removes keep their given label above 0.5 out
    of sample, which no label-agreement signal can flag."""
    judged = np.flatnonzero(plan.judged)
    ranked = rank_labels(
        [table.paths[i] for i in judged], labels[judged], probabilities[judged]
    )
    reviewed = [r for r in ranked if r.path in review]
    issues = np.cumsum([review[r.path]["issue"] == "1" for r in reviewed])
    kept = np.arange(1, len(reviewed) + 1) - issues
    total = int(issues[-1])
    covering = int(np.argmax(issues >= 0.4 * total)) + 1
    safe = np.flatnonzero(kept <= 0.05 * np.arange(1, len(reviewed) + 1))
    return {
        "images_to_cover_40%_of_issues": covering,
        "of_which_kept": int(kept[covering - 1]),
        "most_issues_covered_at_5%_kept": int(issues[safe[-1]])
        if len(safe)
        else 0,
        "issues": total,
        "their_removes_given_label_above_half": sum(
            review[r.path]["action"] == "remove" and r.given_probability > 0.5
            for r in reviewed
        ),
        "their_removes": sum(
            review[r.path]["action"] == "remove" for r in reviewed
        ),
    }


def pipeline_findings(
    table: RawTable,
    probabilities: np.ndarray,
    atypicality: np.ndarray | None,
    rounds: list[np.ndarray],
    plan: FoldPlan,
    class_names: list[str],
    config,
) -> list[Finding]:
    """The findings the pipeline would report, with suggested actions:
    label issues, duplicates and image properties. (Embedding outliers
    need the trained model and are left out here.)"""
    judged = np.flatnonzero(plan.judged)
    ranked = rank_labels(
        [table.paths[i] for i in judged],
        table.labels[judged],
        probabilities[judged],
        None if atypicality is None else atypicality[judged],
        [p[judged] for p in rounds],
    )
    sha256 = dict(zip(table.paths, table.sha256, strict=True))
    findings = [
        Finding(
            path=r.path,
            sha256=sha256[r.path],
            split=split_of(r.path),
            issue=LABEL_ISSUE,
            score=r.score,
            given_label=class_names[r.given],
            suggested_label=class_names[r.suggested],
        )
        for r in ranked
        if r.flagged
    ]
    pairs = find_duplicates(
        table,
        normalised_pixels(table.pngs),
        max_distance=config.quality.near_duplicate_distance,
    )
    findings += duplicate_findings(table, pairs)
    findings += property_findings(table, fence=config.quality.outlier_fence)
    evidence = {
        r.path: LabelEvidence(
            given_probability=r.given_probability,
            suggested_label=class_names[r.suggested],
            suggested_probability=r.suggested_probability,
            no_class=r.no_class,
            agreed_probability=r.agreed_probability,
            doubted=r.doubted,
            given_at_most=r.given_at_most,
        )
        for r in ranked
    }
    return suggest_actions(findings, evidence)


def score_suggestions(findings: Sequence[Finding], review: dict) -> dict:
    """Each reviewed image's suggestion against the reviewers' action.
    The removal of an exact copy is no judgement of the image, so those
    rows are left out (the image's other rows count)."""
    suggested = {
        f.path: f
        for f in findings
        if f.path in review and f.issue != EXACT_DUPLICATE
    }
    table: Counter = Counter()
    relabel_right = 0
    for path, finding in suggested.items():
        action = review[path]["action"]
        table[(finding.suggested_action, action)] += 1
        if (
            finding.suggested_action == RELABEL
            and action == RELABEL
            and finding.suggested_label == review[path]["label_after"]
        ):
            relabel_right += 1
    flagged_relabels = sum(n for (_, a), n in table.items() if a == RELABEL)
    flagged_removes = sum(n for (_, a), n in table.items() if a == REMOVE)
    relabels = sum(n for (s, _), n in table.items() if s == RELABEL)
    removes = sum(n for (s, _), n in table.items() if s == REMOVE)
    return {
        "flagged_reviewed_images": len(suggested),
        "suggested_vs_reviewers": {
            f"{s} / {a}": n for (s, a), n in sorted(table.items())
        },
        "of_their_relabels_flagged_suggested_their_label": _share(
            relabel_right, flagged_relabels
        ),
        "of_their_removes_flagged_suggested_remove": _share(
            table[(REMOVE, REMOVE)], flagged_removes
        ),
        "suggested_relabels_right": _share(relabel_right, relabels),
        "suggested_removes_right": _share(table[(REMOVE, REMOVE)], removes),
    }


def score_fixes(
    findings: Sequence[Finding], review: dict, min_confidence: float
) -> dict:
    """What `dcp fix --accept-suggestions` would change, scored."""
    with tempfile.TemporaryDirectory() as tmp:
        issues = os.path.join(tmp, "issues.csv")
        write_issues_csv(findings, issues)
        plan = plan_fixes(
            read_issues_csv(issues),
            DATA,
            accept_suggestions=True,
            min_confidence=min_confidence,
        )
    leaks = [s for s in plan.steps if _is_leak_removal(s)]
    steps = [
        s for s in plan.steps if s.path in review and not _is_leak_removal(s)
    ]
    right = [s for s in steps if _matches(s, review[s.path])]
    kept = [s for s in steps if review[s.path]["action"] == "keep"]
    issues_total = sum(row["issue"] == "1" for row in review.values())
    return {
        "changes_in_reviewed_half": len(steps),
        "relabels": sum(s.action == RELABEL for s in steps),
        "removes": sum(s.action == REMOVE for s in steps),
        "match_reviewers": _share(len(right), len(steps)),
        "touch_an_image_they_keep": _share(len(kept), len(steps)),
        "their_issues_covered": _share(len(right), issues_total),
        "leak_copies_removed_all_images": len(leaks),
        "left_for_review_all_images": len(plan.left_for_review),
    }


def _is_leak_removal(step: FixStep) -> bool:
    return step.action == REMOVE and step.reason.startswith(EXACT_DUPLICATE)


def _matches(step: FixStep, row: dict) -> bool:
    if step.action == REMOVE:
        return row["action"] == REMOVE
    return row["action"] == RELABEL and row["label_after"] == step.label


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 2) if whole else None


def _class_index(table: RawTable) -> Callable[[str], int]:
    index = dict(zip(table.label_names, table.labels.tolist(), strict=True))
    return index.__getitem__


if __name__ == "__main__":
    main()
