"""How fast the review page lets a reviewer go: Playwright drives
Debian's Chromium over the first findings of a run's report, one key per
finding, and times each decision from the key press until the page
shows it saved and the next card current. That is the page's own share
of a reviewer's time, an upper bound on the decisions per minute; a
person's reading time comes on top.

    python bench/bench_review_page.py --report outputs/report \
        --data data/raw --findings 100

The decisions go to a copy of the report folder; the report itself is
left as it is. A screenshot of the page is written beside the copy.
"""

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench_pipeline import machine
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from core.findings.issues_csv import read_issues_csv
from core.task import get_task
from iteration.fixes.plan import class_folders
from iteration.review.cards import cards_of
from iteration.review.server import ReviewSession, create_app

# Chromium as these machines run it (tests/test_review.py): no sandbox
# as root, no calls out.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--report", required=True, help="with issues.csv")
    parser.add_argument("--data", required=True, help="the image folder")
    parser.add_argument("--findings", type=int, default=100)
    parser.add_argument("--key", default="k", help="the key pressed")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-review-page-"))
    shutil.copy(Path(args.report) / "issues.csv", work / "issues.csv")
    cards = cards_of(read_issues_csv(str(work / "issues.csv")))
    session = ReviewSession(
        title=f"{args.report} (copy)",
        cards=cards,
        class_names=class_folders(Path(args.data)),
        report_dir=work,
        data_dir=Path(args.data),
        changelog=str(work / "DATA_CHANGELOG.md"),
        task=get_task("classification"),
    )
    server = make_server("127.0.0.1", 0, create_app(session), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    wanted = min(args.findings, len(cards))
    seconds = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        started = time.monotonic()
        page.goto(f"http://127.0.0.1:{server.server_port}/")
        counts = page.locator("#counts")
        counts.wait_for()
        loaded = time.monotonic() - started
        for decided in range(1, wanted + 1):
            before = time.monotonic()
            page.keyboard.press(args.key)
            page.wait_for_function(
                "n => document.getElementById('counts').textContent"
                ".startsWith(`${n} of`)",
                arg=decided,
            )
            seconds.append(time.monotonic() - before)
        page.screenshot(path=str(work / "review.png"))
        browser.close()
    server.shutdown()
    total = sum(seconds)
    print(f"Machine: {machine()}")
    print(f"report: {args.report}, {len(cards)} findings; data: {args.data}")
    print(f"page loaded with its cards in {loaded:.2f} s")
    print(
        f"{wanted} decisions (key {args.key!r}) in {total:.1f} s:"
        f" {60 * wanted / total:.0f} per minute; per decision median"
        f" {1000 * statistics.median(seconds):.0f} ms, slowest"
        f" {1000 * max(seconds):.0f} ms"
    )
    print(f"decisions and screenshot: {work}")


if __name__ == "__main__":
    main()
