"""Start the action server and the Rasa server together, in the foreground.

`make run` and `make shell` call this; the end-to-end tests too, on free ports. Ctrl-C (or
SIGTERM) stops both processes cleanly. The Rasa HTTP API stays off: only the channels
(`/webhooks/...`, `/socket.io`) and `/` are served. The web page with the chat widget
(`ops.web.server`) runs beside them, and its origins are the only ones the channels accept.

Every server listens on 127.0.0.1 unless `--host` says otherwise (the action server always does),
and the action server answers only Rasa: a secret drawn at each start (or FAQ_ACTION_TOKEN, for an
action server started elsewhere) is the `token` of Rasa's action endpoint (addons/action_server.py).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import List, Optional

import yaml
from sqlalchemy.engine import make_url

from bot import settings, store

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"
RASA_CLI = "addons.cli"  # Rasa's command line with two speed fixes (see that module)
ACTION_SERVER = "addons.action_server"  # rasa_sdk on loopback, for callers with the token
TOKEN_ENV = "FAQ_ACTION_TOKEN"


def action_token() -> str:
    """The action server's shared secret: FAQ_ACTION_TOKEN, else drawn now."""
    return settings.current().action_token or secrets.token_urlsafe(32)


def _env() -> dict:
    env = dict(os.environ)
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONWARNINGS", "ignore")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def runtime_endpoints(actions_url: str, folder: Path = VAR, token: Optional[str] = None) -> Path:
    """endpoints.yml with the action server address and secret of this run and the tracker store's full URL."""
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8")) or {}
    endpoints.setdefault("action_endpoint", {})["url"] = actions_url
    if token:
        endpoints["action_endpoint"]["token"] = token
    tracker_url = store.tracker_url(endpoints.get("tracker_store"))
    if tracker_url:
        store.prepare_sqlite(tracker_url)
        # Rasa's SQLTrackerStore takes a full SQLAlchemy URL in `url`
        endpoints["tracker_store"] = {"type": "SQL", "url": tracker_url}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"endpoints.{os.getpid()}.yml"
    path.unlink(missing_ok=True)
    # holds the action server's secret, may hold a database password: readable by this user only
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as handle:
        handle.write(yaml.safe_dump(endpoints, sort_keys=False))
    return path


def _safe(url: str) -> str:
    """A database URL without its password, for the console."""
    return make_url(url).render_as_string(hide_password=True)


def wait_http(url: str, timeout: float, process: Optional[subprocess.Popen] = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.5)
    return False


def _stop(processes: List[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(ROOT / "models" / "faq.tar.gz"))
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface the Rasa server and the web page listen on (the action server: 127.0.0.1)",
    )
    parser.add_argument("--port", type=int, default=5005, help="Rasa server (REST channel)")
    parser.add_argument("--actions-port", type=int, default=5055)
    parser.add_argument("--web-port", type=int, default=8080, help="web page with the chat widget")
    parser.add_argument("--shell", action="store_true", help="Rasa's terminal shell instead of the server")
    args = parser.parse_args(argv)

    if not Path(args.model).exists():
        print(f"Modèle introuvable : {args.model}. Lancez `make train`.", file=sys.stderr)
        return 2
    env = _env()
    try:
        store.Store(store.store_url()).dispose()  # creates the tables; fails now rather than mid-conversation
    except Exception as error:
        print(f"Base des retours inaccessible ({_safe(store.store_url())}) : {error}", file=sys.stderr)
        return 1
    print(f"Retours et questions sans réponse : {_safe(store.store_url())}", flush=True)
    actions_url = settings.current().action_server_url or f"http://127.0.0.1:{args.actions_port}/webhook"
    token = action_token()
    endpoints = runtime_endpoints(actions_url, token=token)
    python = sys.executable
    processes: List[subprocess.Popen] = []

    def on_signal(signum, _frame):
        _stop(processes)
        endpoints.unlink(missing_ok=True)
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        processes.append(
            subprocess.Popen(
                [
                    python,
                    "-m",
                    ACTION_SERVER,
                    "--host",
                    "127.0.0.1",
                    "--actions",
                    "actions",
                    "--port",
                    str(args.actions_port),
                ],
                cwd=ROOT,
                env={**env, TOKEN_ENV: token},
            )
        )
        if not wait_http(f"http://127.0.0.1:{args.actions_port}/health", 60, processes[0]):
            print("Le serveur d'actions n'a pas démarré.", file=sys.stderr)
            return 1
        if not args.shell:
            processes.append(
                subprocess.Popen(
                    [
                        python,
                        "-m",
                        "ops.web.server",
                        "--host",
                        args.host,
                        "--port",
                        str(args.web_port),
                        "--socket-port",
                        str(args.port),
                    ],
                    cwd=ROOT,
                    env=env,
                )
            )
        origins = settings.current().origins(args.web_port)
        env["FAQ_WEB_ORIGINS"] = ",".join(origins)  # read by addons.socketio_channel (socket.io)
        common = ["--model", args.model, "--endpoints", str(endpoints), "--credentials", str(ROOT / "credentials.yml")]
        if args.shell:
            shell = subprocess.Popen(
                [python, "-m", RASA_CLI, "shell", *common, "--interface", args.host, "--port", str(args.port)],
                cwd=ROOT,
                env=env,
            )
            processes.insert(0, shell)
            return shell.wait()
        rasa = subprocess.Popen(
            [
                python,
                "-m",
                RASA_CLI,
                "run",
                *common,
                "--interface",
                args.host,
                "--port",
                str(args.port),
                "--cors",
                *origins,
            ],
            cwd=ROOT,
            env=env,
        )
        processes.insert(0, rasa)
        if wait_http(f"http://127.0.0.1:{args.port}/", 300, rasa):
            print(
                f"Assistant prêt : REST sur http://{args.host}:{args.port}/webhooks/rest/webhook (Ctrl-C pour arrêter)",
                flush=True,
            )
            print(
                f"Page web de l'assistant : http://localhost:{args.web_port}/ (origines acceptées : {', '.join(origins)})",
                flush=True,
            )
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        print("Un des serveurs s'est arrêté ; arrêt de l'autre.", file=sys.stderr)
        return 1
    finally:
        _stop(processes)
        endpoints.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
