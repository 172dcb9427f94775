"""`make cluster`: the assistant on several Rasa replicas, on this machine, on loopback.

PostgreSQL (conversations and feedback), Redis (Rasa's lock store), M action servers, N Rasa
replicas (each with SANIC_WORKERS workers) and the web page, all behind nginx, which is the only
address users see (REST, socket.io, web page). Every server comes from Debian's packages or the
project's virtual environment and runs in the foreground under this launcher; Ctrl-C (or SIGTERM)
stops them all. Passwords, and the action servers' secret (the `token` Rasa sends them, see
addons/action_server.py), are drawn at each start and passed through the environment only.
Everything but nginx listens on loopback; nginx limits messages per client address
(FAQ_RATE_PER_ADDRESS) and trusts X-Forwarded-For only from FAQ_TRUSTED_PROXY_ADDRESSES.

    python -m ops.cluster.run --replicas 2 --action-servers 2 --workers 1 --port 5005
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot import settings as bot_settings
from bot import store
from ops.cluster.nginx import Nginx
from ops.cluster.postgres import Postgres
from ops.cluster.redis_server import Redis
from ops.console import without_password
from ops.environment import python_env
from ops.processes import Child, free_port, spawn, stop_all, wait_http
from ops.rest_client import first_reply
from ops.serve import ACTION_SERVER, RASA_CLI, TOKEN_ENV, action_token

ROOT = Path(__file__).resolve().parents[2]
ENDPOINTS = ROOT / "deploy" / "endpoints.cluster.yml"
CREDENTIALS = ROOT / "credentials.yml"
DEFAULT_FOLDER = ROOT / "var" / "cluster"
PYTHON = sys.executable
# A replica that dies while handling a message leaves its ticket in Redis: the conversation waits
# that long at most. Longer than any legitimate message (replies are cut at 10 s, actions at 8 s).
LOCK_LIFETIME_S = 12


@dataclass
class Settings:
    replicas: int = 2
    action_servers: int = 2
    workers: int = 1  # Sanic workers per replica (SANIC_WORKERS)
    port: int = 5005  # nginx: REST, socket.io and the web page; 0 = a free port
    host: str = "127.0.0.1"
    folder: Path = DEFAULT_FOLDER
    model: Path = ROOT / "models" / "faq.tar.gz"
    lock_lifetime: int = LOCK_LIFETIME_S
    replica_header: bool = False  # X-Upstream: which replica answered (internal addresses: tests, diagnosis)
    start_timeout: float = 600  # all replicas loading their model at once, on 2 cores
    # messages a minute per client address, enforced by nginx (and by the replicas, on nginx's address)
    rate_per_address: int = field(default_factory=lambda: bot_settings.current().per_address)
    # proxies in front of nginx whose X-Forwarded-For is believed (addresses or CIDR blocks)
    trusted_proxies: List[str] = field(default_factory=lambda: list(bot_settings.current().trusted_proxy_addresses))


@dataclass
class Replica:
    index: int
    port: int
    child: Child

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    settings: Settings
    children: List[Child] = field(default_factory=list)
    replicas: List[Replica] = field(default_factory=list)
    action_children: List[Child] = field(default_factory=list)
    infrastructure: Dict[str, Child] = field(default_factory=dict)

    def __post_init__(self) -> None:
        s = self.settings
        self.folder = Path(s.folder).resolve()
        self.logs = self.folder / "logs"
        self.port = s.port or free_port()
        self.postgres = Postgres(self.folder / "postgres", free_port())
        self.redis = Redis(self.folder / "redis", free_port())
        self.actions_lb_port = free_port()
        self.replica_ports = [free_port() for _ in range(s.replicas)]
        self.action_ports = [free_port() for _ in range(s.action_servers)]
        self.web_port = free_port()
        self.origins = bot_settings.current().origins(self.port)
        self.action_token = action_token()

    # --- addresses ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.settings.host in ("0.0.0.0", "::") else self.settings.host
        return f"http://{host}:{self.port}"

    @property
    def store_url(self) -> str:
        """The PostgreSQL database of conversations and feedback (password included)."""
        return self.postgres.url()

    # --- start -------------------------------------------------------------------------

    def _model(self) -> Path:
        """One copy of the model for all replicas: a retraining meanwhile cannot mix two models."""
        source = Path(self.settings.model)
        if not source.exists():
            raise RuntimeError(f"Modèle introuvable : {source}. Lancez `make train`.")
        target = self.folder / "model.tar.gz"
        shutil.copyfile(source, target)
        return target

    def start(self) -> "Cluster":
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o711)  # the postgres user must reach its data folder; no listing for others
        try:
            self._start_infrastructure()
            self._start_actions()
            self._start_replicas(self._model())
            self._write_state()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_infrastructure(self) -> None:
        self.infrastructure["postgres"] = self.postgres.start(self.logs / "postgres.log")
        self.children.append(self.infrastructure["postgres"])
        self.infrastructure["redis"] = self.redis.start(self.logs / "redis.log")
        self.children.append(self.infrastructure["redis"])
        store.Store(self.store_url).dispose()  # the feedback tables, before any action server writes
        self.nginx = Nginx(
            self.folder / "nginx",
            self.port,
            self.actions_lb_port,
            self.replica_ports,
            self.action_ports,
            self.web_port,
            self.settings.host,
            self.settings.replica_header,
            self.settings.rate_per_address,
            tuple(self.settings.trusted_proxies),
        )
        self.infrastructure["nginx"] = self.nginx.start(self.logs / "nginx.log")
        self.children.append(self.infrastructure["nginx"])

    def _start_actions(self) -> None:
        env = python_env(**{store.STORE_URL_ENV: self.store_url, TOKEN_ENV: self.action_token})
        for index, port in enumerate(self.action_ports, 1):
            child = spawn(
                f"actions-{index}",
                [PYTHON, "-m", ACTION_SERVER, "--host", "127.0.0.1", "--actions", "actions", "--port", str(port)],
                self.logs / f"actions-{index}.log",
                env,
                ROOT,
            )
            self.children.append(child)
            self.action_children.append(child)
        web = spawn(
            "web",
            [
                PYTHON,
                "-m",
                "ops.web.server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.web_port),
                "--socket-port",
                str(self.port),
            ],
            self.logs / "web.log",
            python_env(FAQ_WEB_ORIGINS=",".join(self.origins)),
            ROOT,
        )
        self.children.append(web)
        for child, port in zip(self.action_children, self.action_ports):
            if not wait_http(f"http://127.0.0.1:{port}/health", 120, child):
                raise RuntimeError(f"Le serveur d'actions {child.name} n'a pas démarré :\n{child.tail()}")

    def replica_env(self) -> Dict[str, str]:
        """Everything deploy/endpoints.cluster.yml and Rasa read, for one replica."""
        return python_env(
            **self.postgres.env(),
            **self.redis.env(),
            FAQ_ACTION_SERVER_URL=f"http://127.0.0.1:{self.actions_lb_port}/webhook",
            FAQ_ACTION_TOKEN=self.action_token,
            # nginx writes the client's address as the one X-Forwarded-For entry
            FAQ_TRUSTED_PROXIES="1",
            FAQ_RATE_PER_ADDRESS=str(self.settings.rate_per_address),
            SANIC_WORKERS=str(self.settings.workers),
            TICKET_LOCK_LIFETIME=str(self.settings.lock_lifetime),
            SQL_POOL_SIZE="10",
            SQL_MAX_OVERFLOW="20",
            FAQ_WEB_ORIGINS=",".join(self.origins),
        )

    def _start_replicas(self, model: Path) -> None:
        env = self.replica_env()
        for index, port in enumerate(self.replica_ports, 1):
            child = spawn(
                f"rasa-{index}",
                [
                    PYTHON,
                    "-m",
                    RASA_CLI,
                    "run",
                    "--model",
                    str(model),
                    "--endpoints",
                    str(ENDPOINTS),
                    "--credentials",
                    str(CREDENTIALS),
                    "--interface",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--cors",
                    *self.origins,
                ],
                self.logs / f"rasa-{index}.log",
                env,
                ROOT,
            )
            self.children.append(child)
            self.replicas.append(Replica(index, port, child))
        deadline = time.monotonic() + self.settings.start_timeout
        for replica in self.replicas:
            # up and answering: a first message loads what Rasa loads lazily
            if not first_reply(replica.url, max(1.0, deadline - time.monotonic()), replica.child, pause=1):
                raise RuntimeError(f"La réplique Rasa {replica.index} n'a pas démarré :\n{replica.child.tail()}")

    def _write_state(self) -> None:
        """<folder>/cluster.json (0600): addresses and process ids, for tools and tests on this machine."""
        state = {
            "url": self.url,
            "pid": os.getpid(),
            "replicas": [{"index": r.index, "port": r.port, "pid": r.child.pid} for r in self.replicas],
            "action_servers": [{"port": p, "pid": c.pid} for p, c in zip(self.action_ports, self.action_children)],
            "workers": self.settings.workers,
            "postgres_url": self.store_url,
            "redis": {"port": self.redis.port},
            "logs": str(self.logs),
        }
        path = self.folder / "cluster.json"
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(json.dumps(state, indent=1), encoding="utf-8")

    # --- run and stop ------------------------------------------------------------------

    def dead(self) -> List[Child]:
        return [child for child in self.children if not child.alive()]

    def stop(self) -> None:
        """nginx first (no new request), then the replicas and action servers, then the stores."""
        order = [c for c in self.children if c.name == "nginx"]
        order += [c for c in self.children if c.name not in ("nginx", "postgres", "redis")]
        stop_all(order)
        stop_all([c for c in self.children if c.name in ("redis", "postgres")])
        (self.folder / "cluster.json").unlink(missing_ok=True)

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


def watch(cluster: Cluster) -> int:
    """Until Ctrl-C: a replica or action server that dies is reported (the others go on); the
    cluster stops if a store, nginx or every replica is gone."""
    reported = set()
    while True:
        time.sleep(1)
        for child in cluster.dead():
            if child.name in reported:
                continue
            reported.add(child.name)
            print(
                f"{child.name} s'est arrêté (code {child.process.returncode}) ; voir {child.log_path}",
                file=sys.stderr,
                flush=True,
            )
        if reported & {"postgres", "redis", "nginx"} or all(not r.child.alive() for r in cluster.replicas):
            print("Service indispensable arrêté : arrêt du cluster.", file=sys.stderr, flush=True)
            return 1


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", type=int, default=bot_settings.current().replicas)
    parser.add_argument("--action-servers", type=int, default=bot_settings.current().action_servers)
    parser.add_argument(
        "--workers",
        type=int,
        default=bot_settings.current().workers,
        help="Sanic workers per replica (REST; socket.io needs 1, see README)",
    )
    parser.add_argument("--port", type=int, default=5005, help="nginx: REST, socket.io and the web page")
    parser.add_argument("--host", default="127.0.0.1", help="interface nginx listens on")
    parser.add_argument("--folder", default=str(DEFAULT_FOLDER), help="data, logs and rendered configuration")
    parser.add_argument("--model", default=str(ROOT / "models" / "faq.tar.gz"))
    args = parser.parse_args(argv)
    if min(args.replicas, args.action_servers, args.workers) < 1:
        parser.error("replicas, action servers and workers: at least 1")

    if args.workers > 1:
        print(
            "Note : avec plusieurs workers par réplique, le widget web (socket.io) perd sa session ; "
            "REST n'est pas concerné (voir README).",
            file=sys.stderr,
        )
    cluster = Cluster(
        Settings(
            args.replicas, args.action_servers, args.workers, args.port, args.host, Path(args.folder), Path(args.model)
        )
    )

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(
        f"Démarrage : {args.replicas} réplique(s) Rasa × {args.workers} worker(s), {args.action_servers} "
        f"serveur(s) d'actions, PostgreSQL, Redis, nginx (journaux : {cluster.logs})",
        flush=True,
    )
    try:
        cluster.start()
        print(
            f"Assistant prêt derrière nginx : {cluster.url}/ (page web), {cluster.url}/webhooks/rest/webhook (REST), "
            f"{cluster.url}/socket.io (widget). Ctrl-C pour arrêter.",
            flush=True,
        )
        print(f"Conversations et retours : {without_password(cluster.store_url)}", flush=True)
        return watch(cluster)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
