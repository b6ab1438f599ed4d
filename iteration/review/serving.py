"""The review server on 127.0.0.1, until Ctrl-C."""

from werkzeug.serving import make_server

from iteration.review.server import ReviewSession, create_app

HOST = "127.0.0.1"  # loopback only: the page changes the user's data


def serve(session: ReviewSession, *, port: int) -> None:
    server = make_server(HOST, port, create_app(session), threaded=True)
    print(
        f"Review {len(session.cards)} findings at"
        f" http://{HOST}:{server.server_port}/"
        f"\n  decisions: {session.report_dir / 'decisions.json'}"
        f"\n  data: {session.data_dir}\nCtrl-C stops the server.",
        flush=True,
    )
    server.serve_forever()
