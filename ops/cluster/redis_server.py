"""Redis from Debian's package, on loopback, for Rasa's RedisLockStore.

The lock store only holds short-lived tickets ("replica X handles conversation Y now"), so Redis
keeps nothing on disk and never evicts a key. The password is new at every start; it goes to
Redis through a 0600 config file, never on a command line that `ps` would show.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import redis

from ops.processes import Child, find_binary, spawn, wait_until

LOCK_DB = 1  # Rasa's default database for the lock store

CONFIG = """\
bind 127.0.0.1
port {port}
protected-mode yes
requirepass {password}
daemonize no
save ""
appendonly no
dir {folder}
logfile ""
maxmemory 64mb
maxmemory-policy noeviction
"""


@dataclass
class Redis:
    folder: Path
    port: int
    password: str = ""

    def __post_init__(self) -> None:
        self.password = self.password or secrets.token_hex(24)

    def env(self) -> dict:
        """What deploy/endpoints.cluster.yml reads."""
        return {
            "FAQ_REDIS_HOST": "127.0.0.1",
            "FAQ_REDIS_PORT": str(self.port),
            "FAQ_REDIS_PASSWORD": self.password,
            "FAQ_REDIS_DB": str(LOCK_DB),
        }

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password, db=LOCK_DB, socket_timeout=3)

    def start(self, log: Path, timeout: float = 30) -> Child:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "redis.conf"
        config.touch(mode=0o600)
        config.chmod(0o600)
        config.write_text(CONFIG.format(port=self.port, password=self.password, folder=self.folder))
        child = spawn("redis", [find_binary("redis-server"), str(config)], log, cwd=self.folder)
        if not wait_until(lambda: self.client().ping(), timeout, child):
            child.stop()
            raise RuntimeError(f"Redis n'a pas démarré :\n{child.tail()}")
        return child
