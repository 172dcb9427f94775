"""Start the action server and the Rasa server together, in the foreground.

`make run` and `make shell` call this; the end-to-end tests too, on free ports. Ctrl-C (or
SIGTERM) stops both processes cleanly. The Rasa HTTP API stays off: only the channels
(`/webhooks/...`, `/socket.io`) and `/` are served. The web page with the chat widget
(`ops.web.server`) runs beside them, and its origins are the only ones the channels accept.

Every server listens on 127.0.0.1 unless `--host` says otherwise (the action server always does),
and the action server answers only Rasa: a secret drawn at each start (or FAQ_ACTION_TOKEN, for an
action server started elsewhere) is the `token` of Rasa's action endpoint (addons/action_server.py).

The terminal shows the steps, the addresses once ready and the servers' real problems; every line
the servers print goes to the full log, var/serve.log unless `--log` says otherwise (ops/console.py).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import List, Optional

import yaml

from bot import settings, store
from ops.console import Console, without_password
from ops.environment import python_env
from ops.processes import Child, spawn, stop_all, wait_http

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"
LOG = VAR / "serve.log"
MODEL = ROOT / "models" / "faq.tar.gz"
RASA_CLI = "addons.cli"  # Rasa's command line with two speed fixes (see that module)
ACTION_SERVER = "addons.action_server"  # rasa_sdk on loopback, for callers with the token
TOKEN_ENV = "FAQ_ACTION_TOKEN"
PYTHON = sys.executable


def action_token() -> str:
    """The action server's shared secret: FAQ_ACTION_TOKEN, else drawn now."""
    return settings.current().action_token or secrets.token_urlsafe(32)


def command(
    port: int, actions_port: int, web_port: Optional[int] = None, log: Optional[Path] = None, shell: bool = False
) -> List[str]:
    """The command line of this launcher on the given ports (the tests start the assistant with it)."""
    line = [PYTHON, "-m", "ops.serve", "--port", str(port), "--actions-port", str(actions_port)]
    line += ["--web-port", str(web_port)] if web_port else []
    return line + (["--log", str(log)] if log else []) + (["--shell"] if shell else [])


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


def _shown(path: Path) -> str:
    """`path` as the person typed it would: relative to the current folder when under it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(MODEL))
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface the Rasa server and the web page listen on (the action server: 127.0.0.1)",
    )
    parser.add_argument("--port", type=int, default=5005, help="Rasa server (REST channel)")
    parser.add_argument("--actions-port", type=int, default=5055)
    parser.add_argument("--web-port", type=int, default=8080, help="web page with the chat widget")
    parser.add_argument("--shell", action="store_true", help="Rasa's terminal shell instead of the server")
    parser.add_argument("--log", default=str(LOG), help="full log of the servers (the terminal shows the essentials)")
    args = parser.parse_args(argv)

    if not Path(args.model).exists():
        print(f"Modèle introuvable : {args.model}. Lancez `make train`.", file=sys.stderr)
        return 2
    console = Console(Path(args.log))
    try:
        return _serve(args, console)
    finally:
        console.close()


def _serve(args: argparse.Namespace, console: Console) -> int:
    env = python_env()
    try:
        store.Store(store.store_url()).dispose()  # creates the tables; fails now rather than mid-conversation
    except Exception as error:
        console.error(f"Base des retours inaccessible ({without_password(store.store_url())}) : {error}")
        return 1
    console.say(f"Retours et questions sans réponse : {without_password(store.store_url())}")
    console.say(f"Journal complet des serveurs : {_shown(console.log_path)}")
    actions_url = settings.current().action_server_url or f"http://127.0.0.1:{args.actions_port}/webhook"
    token = action_token()
    endpoints = runtime_endpoints(actions_url, token=token)
    children: List[Child] = []

    def start(name: str, arguments: List[str], child_env: dict, interactive: bool = False) -> Child:
        """One server: its output through the console; stopped with the others."""
        child = spawn(
            name,
            [PYTHON, "-m", *arguments],
            console.log_path,
            child_env,
            ROOT,
            relay=console.relay(),
            interactive=interactive,
        )
        children.append(child)
        return child

    def on_signal(signum, _frame):
        stop_all(children, 15)
        endpoints.unlink(missing_ok=True)
        sys.exit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # SIGHUP: the terminal was closed
        signal.signal(signum, on_signal)
    try:
        console.say("Démarrage du serveur d'actions…")
        actions = start(
            "actions",
            [ACTION_SERVER, "--host", "127.0.0.1", "--actions", "actions", "--port", str(args.actions_port)],
            {**env, TOKEN_ENV: token},
        )
        origins = settings.current().origins(args.web_port)
        env["FAQ_WEB_ORIGINS"] = ",".join(origins)  # read by addons.socketio_channel (socket.io)
        common = ["--model", args.model, "--endpoints", str(endpoints), "--credentials", str(ROOT / "credentials.yml")]
        where = ["--interface", args.host, "--port", str(args.port)]
        model = f"Chargement du modèle {_shown(Path(args.model))} (une quinzaine de secondes)…"
        rasa = None
        if not args.shell:
            # the page and Rasa start while the action server does: Rasa needs it at the first message only
            web = ["ops.web.server", "--host", args.host, "--port", str(args.web_port), "--socket-port", str(args.port)]
            start("web", web, env)
            console.say(model)
            rasa = start("rasa", [RASA_CLI, "run", *common, *where, "--cors", *origins], env)
        if not wait_http(f"http://127.0.0.1:{args.actions_port}/health", 60, actions):
            actions.drain()
            console.error("Le serveur d'actions n'a pas démarré.")
            return 1
        if args.shell:
            console.say(model)
            # stdin and stdout stay the terminal's: the conversation; its log lines go through the console
            shell = start("rasa", [RASA_CLI, "shell", *common, *where], env, interactive=True)
            return shell.process.wait()
        if wait_http(f"http://127.0.0.1:{args.port}/", 300, rasa):
            console.say(
                f"Assistant prêt : REST sur http://{args.host}:{args.port}/webhooks/rest/webhook (Ctrl-C pour arrêter)"
            )
            console.say(
                f"Page web de l'assistant : http://localhost:{args.web_port}/ (origines acceptées : {', '.join(origins)})"
            )
        while all(child.alive() for child in children):
            time.sleep(0.5)
        for child in children:
            child.drain()
        stopped = ", ".join(child.name for child in children if not child.alive())
        console.error(f"Un des serveurs s'est arrêté ({stopped}) ; arrêt des autres. Voir {_shown(console.log_path)}")
        return 1
    finally:
        stop_all(children, 15)
        endpoints.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
