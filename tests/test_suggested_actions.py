"""One suggested action per flagged image, from all of its findings and
its out-of-sample label evidence."""

import dataclasses

import pytest

from components.quality_report.suggested_actions import (
    LabelEvidence,
    suggest_actions,
)
from core.findings.finding import RELABEL, REMOVE, REVIEW, Finding
from core.findings.types import (
    BLANK,
    BROKEN_FILE,
    DARK,
    EXACT_DUPLICATE,
    LABEL_ISSUE,
    NEAR_DUPLICATE,
    OUTLIER,
)

PATH = "train/v/a.png"


def found(issue: str, path: str = PATH, score: float = 0.9, **kw) -> Finding:
    return Finding(
        path=path,
        sha256="",
        split=path.split("/")[0],
        issue=issue,
        score=score,
        given_label=path.split("/")[1],
        **kw,
    )


def suggestion(findings, evidence=None) -> list[tuple[str, float, str]]:
    return [
        (f.suggested_action, round(f.confidence, 3), f.suggested_label)
        for f in suggest_actions(findings, evidence or {})
    ]


def label_issue_suggestion(
    evidence: LabelEvidence,
) -> list[tuple[str, float, str]]:
    """The suggestion for PATH's label issue, whose evidence points to x."""
    return suggestion(
        [found(LABEL_ISSUE, suggested_label="x")], {PATH: evidence}
    )


def test_a_confident_other_class_is_a_relabel():
    assert label_issue_suggestion(LabelEvidence(0.02, "x", 0.93)) == [
        (RELABEL, 0.98, "x")
    ]


def test_no_probable_class_is_a_remove_not_a_relabel():
    # the most probable class has 40%: the image looks like no class
    assert label_issue_suggestion(LabelEvidence(0.1, "x", 0.4)) == [
        (REMOVE, 0.9, "x")
    ]


def test_a_label_issue_near_a_copy_with_another_label_is_a_remove():
    assert suggestion(
        [
            found(LABEL_ISSUE, suggested_label="x"),
            found(
                NEAR_DUPLICATE,
                duplicate_of="train/ii/b.png",
                suggested_label="ii",
            ),
        ],
        {PATH: LabelEvidence(0.05, "x", 0.95)},
    ) == [(REMOVE, 0.95, "x"), (REMOVE, 0.95, "ii")]


def test_a_copy_in_another_folder_with_the_same_label_is_no_conflict():
    # etl.labels maps folders ii and iii to one label, "few"
    path = "train/iii/a.png"
    assert suggestion(
        [
            dataclasses.replace(
                found(LABEL_ISSUE, path, suggested_label="x"),
                given_label="few",
            ),
            dataclasses.replace(
                found(NEAR_DUPLICATE, path, duplicate_of="train/ii/b.png"),
                given_label="few",
            ),
        ],
        {path: LabelEvidence(0.05, "x", 0.95)},
    ) == [(RELABEL, 0.95, "x"), (RELABEL, 0.95, "x")]


def test_an_embedding_outlier_is_a_remove_unless_another_class_is_sure():
    # A swapped label the trained model memorised makes it an outlier
    # in that model's embedding: confident evidence still relabels it.
    pair = [found(LABEL_ISSUE, suggested_label="x"), found(OUTLIER, score=3)]
    assert suggestion(pair, {PATH: LabelEvidence(0.05, "x", 0.95)}) == [
        (RELABEL, 0.95, "x"),
        (RELABEL, 0.95, "x"),
    ]
    assert suggestion(pair, {PATH: LabelEvidence(0.35, "x", 0.6)}) == [
        (REMOVE, 0.65, "x"),
        (REMOVE, 0.65, ""),
    ]


def test_weak_evidence_is_left_for_review():
    assert label_issue_suggestion(LabelEvidence(0.35, "x", 0.6)) == [
        (REVIEW, 0.65, "x")
    ]


def test_no_relabel_to_the_label_it_already_has():
    assert suggestion(
        [found(LABEL_ISSUE, suggested_label="v")],
        {PATH: LabelEvidence(0.8, "v", 0.8)},
    ) == [(REVIEW, 0.2, "v")]


@pytest.mark.parametrize("issue", [BROKEN_FILE, BLANK])
def test_unreadable_and_blank_images_are_removed_whatever_the_label(issue):
    assert suggestion(
        [found(LABEL_ISSUE, suggested_label="x"), found(issue, score=1.0)],
        {PATH: LabelEvidence(0.0, "x", 0.99)},
    ) == [(REMOVE, 1.0, "x"), (REMOVE, 1.0, "")]


def test_an_exact_copy_is_removed_on_its_own_row_only():
    """The copy's row removes it (dcp fix picks which copy); its label is
    judged on its own evidence."""
    assert suggestion(
        [
            found(EXACT_DUPLICATE, score=1.0, duplicate_of="val/v/b.png"),
            found(LABEL_ISSUE, suggested_label="x"),
        ],
        {PATH: LabelEvidence(0.3, "x", 0.6)},
    ) == [(REMOVE, 1.0, ""), (REVIEW, 0.7, "x")]


def test_findings_without_label_evidence_are_left_for_review():
    assert suggestion([found(DARK, score=0.4)]) == [(REVIEW, 0.4, "")]
    # an unbounded score (IQRs beyond the fence) reads as certain
    assert suggestion([found(OUTLIER, score=7.5)]) == [(REVIEW, 1.0, "")]


def test_order_and_other_images_are_kept():
    findings = [
        found(DARK, path="val/i/c.png", score=0.2),
        found(LABEL_ISSUE, suggested_label="x"),
    ]
    suggested = suggest_actions(
        findings, {PATH: LabelEvidence(0.0, "x", 0.99)}
    )
    assert [f.path for f in suggested] == ["val/i/c.png", PATH]
    assert [f.suggested_action for f in suggested] == [REVIEW, RELABEL]


def test_a_change_is_only_as_sure_as_the_round_that_believes_the_label_most():
    # The rounds' mean gives the label 0.02, one round 0.2: the label is
    # wrong with 0.8 at least, however sure the new class is.
    evidence = LabelEvidence(0.02, "x", 0.93, given_at_most=0.2)
    assert label_issue_suggestion(evidence) == [(RELABEL, 0.8, "x")]
    assert label_issue_suggestion(
        dataclasses.replace(evidence, suggested_probability=0.4)
    ) == [(REMOVE, 0.8, "x")]


def test_a_relabel_is_no_surer_than_the_round_least_sure_of_its_class():
    evidence = LabelEvidence(0.0, "x", 0.93, agreed_probability=0.9)
    assert label_issue_suggestion(evidence) == [(RELABEL, 1.0, "x")]
    # One round gives the new class 0.85: the relabel is as sure as that.
    assert label_issue_suggestion(
        dataclasses.replace(evidence, agreed_probability=0.85)
    ) == [(RELABEL, 0.85, "x")]


def test_a_label_every_round_doubts_with_no_sure_class_is_a_remove():
    # No class reaches a relabel's 0.7: the image looks like no class.
    doubted = LabelEvidence(0.05, "x", 0.6, doubted=True)
    assert label_issue_suggestion(doubted) == [(REMOVE, 0.95, "x")]
    # A sure other class is still a relabel ...
    assert label_issue_suggestion(
        dataclasses.replace(doubted, suggested_probability=0.9)
    ) == [(RELABEL, 0.95, "x")]
    # ... and a label some round believes is left for review.
    assert label_issue_suggestion(
        dataclasses.replace(doubted, doubted=False)
    ) == [(REVIEW, 0.95, "x")]
