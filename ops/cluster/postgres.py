"""PostgreSQL from Debian's package, on loopback, in a data folder of the cluster's own.

Holds Rasa's conversations (SQLTrackerStore) and the feedback store. The server refuses to run
as root: under root it runs as the `postgres` user that Debian's package creates. The data
folder survives restarts (the conversations too); the application role's password is new at
every start and only ever passed through the environment.
"""

from __future__ import annotations

import os
import pwd
import secrets
import signal
from dataclasses import dataclass
from glob import glob
from pathlib import Path
from typing import Optional, Tuple

import psycopg2
from sqlalchemy.engine import URL

from ops.processes import Child, find_binary, spawn, wait_until

BIN_FOLDERS = sorted(glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
ADMIN = "faq_admin"  # superuser, reachable only on the private Unix socket
APP_USER = "faq"
DATABASE = "faq"


def _run_as() -> Tuple[Optional[int], Optional[int]]:
    """(uid, gid) to run the server with: the `postgres` user under root, else the current user."""
    if os.geteuid() != 0:
        return None, None
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError as error:
        raise RuntimeError(
            "PostgreSQL refuse de tourner en root et l'utilisateur `postgres` n'existe pas "
            "(installez le paquet Debian postgresql)."
        ) from error
    return entry.pw_uid, entry.pw_gid


@dataclass
class Postgres:
    folder: Path  # holds data/ and socket/
    port: int
    password: str = ""

    def __post_init__(self) -> None:
        self.password = self.password or secrets.token_hex(24)
        self.data = self.folder / "data"
        self.socket_dir = self.folder / "socket"
        self.uid, self.gid = _run_as()

    def url(self) -> str:
        """SQLAlchemy URL of the application database (password included: never print it)."""
        return URL.create(
            "postgresql", username=APP_USER, password=self.password, host="127.0.0.1", port=self.port, database=DATABASE
        ).render_as_string(hide_password=False)

    def env(self) -> dict:
        """What deploy/endpoints.cluster.yml reads."""
        return {
            "FAQ_PG_HOST": "127.0.0.1",
            "FAQ_PG_PORT": str(self.port),
            "FAQ_PG_DB": DATABASE,
            "FAQ_PG_USER": APP_USER,
            "FAQ_PG_PASSWORD": self.password,
        }

    def _own(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o700)
        if self.uid is not None:
            os.chown(path, self.uid, self.gid)

    def _initdb(self, log: Path) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self._own(self.data)
        child = spawn(
            "initdb",
            [
                find_binary("initdb", BIN_FOLDERS),
                "-D",
                str(self.data),
                "-U",
                ADMIN,
                "-E",
                "UTF8",
                "--no-locale",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ],
            log,
            cwd=self.folder,
            user=self.uid,
            group=self.gid,
        )
        if child.process.wait(timeout=180) != 0:
            raise RuntimeError(f"initdb a échoué :\n{child.tail()}")

    def start(self, log: Path, timeout: float = 90) -> Child:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._initdb(log)
        self._own(self.socket_dir)  # the trusted socket: only the server's user (and root) can reach it
        child = spawn(
            "postgres",
            [
                find_binary("postgres", BIN_FOLDERS),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={self.socket_dir}",
                "-c",
                "unix_socket_permissions=0700",
                "-c",
                "max_connections=300",
                "-c",
                "password_encryption=scram-sha-256",
            ],
            log,
            cwd=self.folder,
            user=self.uid,
            group=self.gid,
            stop_signal=signal.SIGINT,
        )  # SIGINT: fast shutdown
        if not wait_until(lambda: self._admin().close() is None, timeout, child):
            child.stop()
            raise RuntimeError(f"PostgreSQL n'a pas démarré :\n{child.tail()}")
        self._prepare()
        return child

    def _admin(self, database: str = "postgres"):
        return psycopg2.connect(
            host=str(self.socket_dir), port=self.port, user=ADMIN, dbname=database, connect_timeout=3
        )

    def _prepare(self) -> None:
        """The application role (new password) and its database; idempotent."""
        connection = self._admin()
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_USER,))
                if cursor.fetchone() is None:
                    cursor.execute(f"CREATE ROLE {APP_USER} LOGIN")
                cursor.execute(f"ALTER ROLE {APP_USER} PASSWORD %s", (self.password,))
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
                if cursor.fetchone() is None:
                    cursor.execute(f"CREATE DATABASE {DATABASE} OWNER {APP_USER} ENCODING 'UTF8'")
        finally:
            connection.close()
