"""`dcp review`: the decisions file, the server's safety rules, and the
page in a real Chromium driven by Playwright, applied as `dcp fix`
would apply the same decisions."""

import csv
import dataclasses
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from werkzeug.serving import make_server

from core.findings.issues_csv import read_issues_csv, write_issues_csv
from core.findings.types import EXACT_DUPLICATE, LABEL_ISSUE, OUTLIER
from iteration.fixes.plan import class_folders
from iteration.review.cards import cards_of
from iteration.review.decisions import CLEAR, DecisionStore
from iteration.review.server import TOKEN_HEADER, ReviewSession, create_app
from tasks.classification.task import TASK
from tests.fix_repo import finding, git_dvc_repo, issues_csv, snapshot
from tests.test_fix import fix
from tests.test_report_browser import ARTIFACTS, chromium

SOURCES = ("reviewed-issues.csv", "issues.csv")
# Chromium as these machines run it: no sandbox as root, no calls out.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def report_findings(images: Path) -> list:
    """A label issue, an exact duplicate, two outliers and a third label
    issue of write_digits' folder, as the report would flag them."""
    return [
        finding(
            images,
            "train/0/001.png",
            LABEL_ISSUE,
            0.97,
            suggested_label="2",
            suggested_action="relabel",
            confidence=0.97,
        ),
        finding(
            images,
            "val/1/leak.png",
            EXACT_DUPLICATE,
            0.9,
            duplicate_of="train/1/100.png",
            suggested_action="remove",
            confidence=1.0,
        ),
        finding(images, "train/1/101.png", OUTLIER, 0.8),
        finding(
            images,
            "train/2/202.png",
            LABEL_ISSUE,
            0.7,
            suggested_label="1",
            suggested_action="relabel",
            confidence=0.7,
        ),
        finding(images, "train/0/002.png", OUTLIER, 0.6),
    ]


def session_for(repo: Path) -> ReviewSession:
    images = repo / "data" / "images"
    report = repo / "report"
    report.mkdir(exist_ok=True)
    write_issues_csv(report_findings(images), str(report / "issues.csv"))
    return ReviewSession(
        title="digits <b>run</b>",
        cards=cards_of(read_issues_csv(str(report / "issues.csv"))),
        class_names=class_folders(images),
        report_dir=report,
        data_dir=images,
        changelog=str(repo / "DATA_CHANGELOG.md"),
        task=TASK,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return git_dvc_repo(tmp_path / "project")


def test_decisions_are_saved_whole_and_the_later_save_wins(tmp_path):
    store = DecisionStore(tmp_path / "report" / "decisions.json")

    first = store.save("abc", "remove", "", seen=0, page="one")
    assert not first.changed_elsewhere
    # The other page saw nothing of it: told, and its save wins.
    other = store.save("abc", "relabel", "7", seen=0, page="two")
    assert other.changed_elsewhere
    assert other.decision.revision == 2
    again = store.save("abc", "keep", "", seen=2, page="one")
    assert not again.changed_elsewhere

    reread = DecisionStore(tmp_path / "report" / "decisions.json")
    assert reread.decided()["abc"].action == "keep"
    store.save("abc", CLEAR, "", seen=3, page="one")
    assert reread.decided() == {}
    # Written by rename: no temporary file is left beside it.
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == [
        "decisions.json",
        "decisions.json.lock",
    ]
    with pytest.raises(ValueError, match="unknown action"):
        store.save("abc", "delete", "", seen=4, page="one")


def test_state_changes_need_the_token_and_images_need_an_id(repo):
    session = session_for(repo)
    client = create_app(session).test_client()
    card = session.cards[0]
    body = {"id": card.id, "action": "keep", "seen": 0, "page": "p"}

    assert client.post("/api/decisions", json=body).status_code == 403
    assert (
        client.post(
            "/api/decisions", json=body, headers={TOKEN_HEADER: "guess"}
        ).status_code
        == 403
    )
    assert client.post("/api/apply").status_code == 403
    # A page reaching 127.0.0.1 under another site's name is refused.
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 403
    ok = client.post(
        "/api/decisions", json=body, headers={TOKEN_HEADER: session.token}
    )
    assert ok.status_code == 200
    assert ok.get_json()["decision"]["action"] == "keep"

    assert (
        client.get(f"/image/{card.id}").data
        == (session.data_dir / card.row["path"]).read_bytes()
    )
    for url in (
        "/image/../../etc/passwd",
        "/image/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        f"/image/{card.id}/sha256",
        "/image/train%2F0%2F001.png",
        "/class-image/99/0",
        "/static/../cards.py",
    ):
        assert client.get(url).status_code == 404, url
    # The title, from the user, is escaped.
    page = client.get("/").get_data(as_text=True)
    assert "digits &lt;b&gt;run&lt;/b&gt;" in page
    assert "<b>run</b>" not in page


def test_a_finding_whose_file_changed_is_not_applied(repo):
    session = session_for(repo)
    client = create_app(session).test_client()
    card = next(c for c in session.cards if c.row["issue"] == OUTLIER)
    client.post(
        "/api/decisions",
        json={"id": card.id, "action": "remove", "seen": 0, "page": "p"},
        headers={TOKEN_HEADER: session.token},
    )
    (session.data_dir / card.row["path"]).write_bytes(b"edited since")
    before = snapshot(session.data_dir)

    answer = client.post("/api/apply", headers={TOKEN_HEADER: session.token})

    assert answer.status_code == 409
    assert card.row["path"] in answer.get_json()["error"]
    assert snapshot(session.data_dir) == before


@pytest.fixture
def served(repo) -> Iterator[tuple[str, ReviewSession]]:
    session = session_for(repo)
    server = make_server("127.0.0.1", 0, create_app(session), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/", session
    server.shutdown()


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium(), args=CHROMIUM_ARGS
        )
        yield browser.new_page(viewport={"width": 1280, "height": 1100})
        browser.close()


def decision_of(page: Page, path: str):
    card = page.locator(".card", has=page.get_by_text(path, exact=True))
    return card.locator(".decision")


def test_decide_with_keys_and_clicks_reload_and_apply_as_dcp_fix(
    served, page, tmp_path
):
    url, session = served
    page.goto(url)
    expect(page.locator("#counts")).to_contain_text("0 of 5 findings decided")
    # Ranked by score: the label issue of train/0/001.png comes first.
    first = page.locator(".card").first
    expect(first).to_have_class("card current")
    expect(first).to_contain_text("train/0/001.png")
    expect(first.locator(".strip img").first).to_be_visible()

    page.keyboard.press("a")  # accept: relabel to 2
    page.keyboard.press("x")  # the leak: remove
    page.keyboard.press("k")  # the outlier train/1/101.png: keep
    page.keyboard.press("u")  # undo that keep
    page.keyboard.press("k")  # and keep it again
    expect(decision_of(page, "train/1/101.png")).to_have_text("keep")
    # The second label issue: relabel by typing the class, to 0, not 1.
    page.keyboard.press("r")
    page.keyboard.type("0")
    page.keyboard.press("Enter")
    page.locator(
        ".card", has=page.get_by_text("train/0/002.png", exact=True)
    ).get_by_role("button", name="Remove (x)").click()
    expect(page.locator("#counts")).to_contain_text("5 of 5 findings decided")

    page.reload()
    expect(page.locator("#counts")).to_contain_text("5 of 5 findings decided")
    expect(decision_of(page, "train/0/001.png")).to_have_text(
        "accept: relabel → 2"
    )
    expect(decision_of(page, "train/2/202.png")).to_have_text("relabel → 0")
    # The outlier kept: relabelled to 2 with the mouse's picker instead.
    page.locator(
        ".card", has=page.get_by_text("train/1/101.png", exact=True)
    ).get_by_label("relabel to").select_option("2")
    expect(decision_of(page, "train/1/101.png")).to_have_text("relabel → 2")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)
    saved = json.loads((session.report_dir / "decisions.json").read_text())
    by_path = {
        card.row["path"]: saved[card.id]["action"] for card in session.cards
    }
    assert by_path == {
        "train/0/001.png": "accept",
        "val/1/leak.png": "remove",
        "train/1/101.png": "relabel",
        "train/2/202.png": "relabel",
        "train/0/002.png": "remove",
    }

    page.get_by_role("button", name="Apply decisions").click()
    expect(page.locator("#message")).to_contain_text("data-v2", timeout=60_000)
    expect(page.locator("#message")).to_contain_text("make run")

    # dcp fix with the same decisions, on a twin of the folder.
    twin = git_dvc_repo(tmp_path / "twin")
    images = twin / "data" / "images"
    findings = report_findings(images)
    findings[2] = dataclasses.replace(findings[2], suggested_label="2")
    findings[3] = dataclasses.replace(findings[3], suggested_label="0")
    fix(
        issues_csv(
            twin,
            findings,
            {
                "train/0/001.png": "accept",
                "val/1/leak.png": "remove",
                "train/1/101.png": "relabel",
                "train/2/202.png": "relabel",
                "train/0/002.png": "remove",
            },
        ),
        images,
    )
    # The trash of removed files is no class to relabel to.
    assert class_folders(session.data_dir) == ["0", "1", "2"]
    reviewed, fixed = snapshot(session.data_dir), snapshot(images)
    assert reviewed.pop("changes.csv") != fixed.pop("changes.csv")
    assert reviewed == fixed
    # The same changes, each naming the file its decision came from.
    assert without_source(session.data_dir) == without_source(images)


def without_source(images: Path) -> list[dict[str, str]]:
    with (images / "changes.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert all(row.pop("source").split()[0] in SOURCES for row in rows)
    return sorted(rows, key=lambda row: row["path"])
