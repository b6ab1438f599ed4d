"""The review page's web app (Flask), for 127.0.0.1 only. Every request
that changes state carries the session's token, which only the page the
server gave out knows; images are found by a finding's id, never by a
path from the client."""

import dataclasses
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import Flask, abort, jsonify, render_template, request, send_file

from core.task import Task
from iteration.review.applying import apply_decisions
from iteration.review.cards import Card, class_examples, image_file
from iteration.review.decisions import DecisionStore

TOKEN_HEADER = "X-DCP-Token"
# Train images of a class shown beside a label issue.
STRIP_IMAGES = 4
_LOCAL_HOSTS = ("127.0.0.1", "localhost")


@dataclasses.dataclass(frozen=True)
class ReviewSession:
    title: str
    cards: Sequence[Card]
    class_names: Sequence[str]
    report_dir: Path
    data_dir: Path
    changelog: str
    task: Task
    token: str = dataclasses.field(
        default_factory=lambda: secrets.token_urlsafe(32)
    )


def create_app(session: ReviewSession) -> Flask:
    app = Flask(__name__)
    store = DecisionStore(session.report_dir / "decisions.json")
    by_id = {card.id: card for card in session.cards}
    strips = class_examples(
        session.data_dir, session.class_names, STRIP_IMAGES
    )

    @app.before_request
    def local_pages_only() -> None:
        # A page of another site reaching 127.0.0.1 through a name it
        # controls (DNS rebinding) sends its own name as the Host.
        if request.host.rsplit(":", 1)[0] not in _LOCAL_HOSTS:
            abort(403)
        if request.method != "GET" and not secrets.compare_digest(
            request.headers.get(TOKEN_HEADER, ""), session.token
        ):
            abort(403)

    @app.after_request
    def no_foreign_content(response: Any) -> Any:
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self'; style-src 'self';"
            " script-src 'self'; frame-ancestors 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        # Decisions are always read fresh; an image, once per session.
        fresh = request.path == "/" or request.path.startswith("/api/")
        response.headers["Cache-Control"] = (
            "no-store" if fresh else "private, max-age=3600"
        )
        return response

    @app.get("/")
    def page() -> str:
        return render_template(
            "review.html", title=session.title, token=session.token
        )

    @app.get("/api/findings")
    def findings() -> Any:
        decisions = store.load()
        return jsonify(
            title=session.title,
            class_names=list(session.class_names),
            strip_images=STRIP_IMAGES,
            cards=[card.to_json() for card in session.cards],
            decisions={
                card: dataclasses.asdict(decision)
                for card, decision in decisions.items()
            },
        )

    @app.get("/image/<card>")
    @app.get("/image/<card>/<part>")
    def image(card: str, part: str = "path") -> Any:
        if card not in by_id or part not in ("path", "duplicate_of"):
            abort(404)
        file = image_file(session.data_dir, by_id[card].row.get(part, ""))
        if file is None:
            abort(404)
        return send_file(file)

    @app.get("/class-image/<int:index>/<int:number>")
    def class_image(index: int, number: int) -> Any:
        if not 0 <= index < len(session.class_names):
            abort(404)
        files = strips[session.class_names[index]]
        if not 0 <= number < len(files):
            abort(404)
        return send_file(files[number])

    @app.post("/api/decisions")
    def decide() -> Any:
        body = request.get_json(force=True, silent=True) or {}
        card = str(body.get("id", ""))
        if card not in by_id:
            abort(404)
        label = str(body.get("label", ""))
        if label and label not in session.class_names:
            abort(400)
        try:
            saved = store.save(
                card,
                str(body.get("action", "")),
                label,
                seen=int(body.get("seen", 0)),
                page=str(body.get("page", "")),
            )
        except ValueError as error:
            return jsonify(error=str(error)), 400
        return jsonify(
            decision=dataclasses.asdict(saved.decision),
            changed_elsewhere=saved.changed_elsewhere,
        )

    @app.post("/api/apply")
    def apply() -> Any:
        try:
            result = apply_decisions(
                session.cards,
                store.decided(),
                report_dir=session.report_dir,
                data_dir=session.data_dir,
                changelog=session.changelog,
                task=session.task,
            )
        except ValueError as error:  # rows dcp fix refuses, each named
            return jsonify(error=str(error)), 409
        return jsonify(
            version=result.version.tag if result.version else None,
            changes=len(result.changes),
            summary=result.format(str(session.data_dir), session.changelog),
        )

    return app
