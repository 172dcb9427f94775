"""nginx from Debian's package as the cluster's load balancer, rendered from deploy/nginx.cluster.conf.

Runs in the foreground as a child of the launcher (`-p` its own folder, no system service).
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence

from ops.processes import Child, find_binary, spawn, tcp_open, wait_until

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx.cluster.conf"
FAIL_TIMEOUT = "10s"  # a replica that refused a connection gets no request for that long
TEMP_FOLDERS = ("body", "proxy", "fastcgi", "uwsgi", "scgi")


def _user_line() -> str:
    """Under root, nginx's workers drop to an unprivileged user (Debian's www-data, else nobody)."""
    if os.geteuid() != 0:
        return ""
    for user in ("www-data", "nobody"):
        try:
            entry = pwd.getpwnam(user)
            return f"user {user} {grp.getgrgid(entry.pw_gid).gr_name};"
        except KeyError:
            continue
    return ""


def _servers(ports: List[int], fail_timeout: str) -> str:
    return "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout={fail_timeout};" for port in ports)


def _limits(per_minute: int) -> Dict[str, str]:
    """limit_req per client address: REST messages, and socket.io requests (3 per message)."""
    if per_minute <= 0:
        return {"limit_zones": "", "limit_rest": "", "limit_socketio": ""}
    location = (
        "            limit_req zone={zone} burst={burst} nodelay;\n"
        "            limit_req_status 429;\n"
        "            error_page 429 = @too_many;"
    )
    return {
        "limit_zones": (
            f"    limit_req_zone $binary_remote_addr zone=faq_rest:10m rate={per_minute}r/m;\n"
            f"    limit_req_zone $binary_remote_addr zone=faq_socketio:10m rate={3 * per_minute}r/m;"
        ),
        # nginx lets one request plus `burst` through at once: `per_minute` in all, as bot/limits.py does
        "limit_rest": location.format(zone="faq_rest", burst=per_minute - 1),
        "limit_socketio": location.format(zone="faq_socketio", burst=3 * per_minute - 1),
    }


def _real_ip(trusted_proxies: Sequence[str]) -> str:
    if not trusted_proxies:
        return ""
    lines = [f"    set_real_ip_from {address};" for address in trusted_proxies]
    return "\n".join(lines + ["    real_ip_header X-Forwarded-For;", "    real_ip_recursive on;"])


def render(
    port: int,
    actions_port: int,
    rasa_ports: List[int],
    action_ports: List[int],
    web_port: int,
    replica_header: bool = False,
    host: str = "127.0.0.1",
    rate_per_address: int = 0,
    trusted_proxies: Sequence[str] = (),
) -> str:
    values = {
        "user": _user_line(),
        "listen": f"{host}:{port}",
        "actions_listen": f"127.0.0.1:{actions_port}",
        "rasa_servers": _servers(rasa_ports, FAIL_TIMEOUT),
        "action_servers": _servers(action_ports, FAIL_TIMEOUT),
        "web_port": str(web_port),
        "fail_timeout": FAIL_TIMEOUT,
        # which replica answered (internal addresses): for the tests and for diagnosis, off by default
        "replica_header": "add_header X-Upstream $upstream_addr always;" if replica_header else "",
        "real_ip": _real_ip(trusted_proxies),
        **_limits(rate_per_address),
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    missing = set(re.findall(r"\{\{(\w+)\}\}", text)) - set(values)
    if missing:
        raise ValueError(f"no value for {sorted(missing)} in {TEMPLATE}")
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], text)


@dataclass
class Nginx:
    folder: Path
    port: int
    actions_port: int
    rasa_ports: List[int]
    action_ports: List[int]
    web_port: int
    host: str = "127.0.0.1"
    replica_header: bool = False
    rate_per_address: int = 0
    trusted_proxies: Sequence[str] = ()
    binary: str = field(default_factory=lambda: find_binary("nginx"))

    def write_config(self) -> Path:
        for name in TEMP_FOLDERS:
            (self.folder / "tmp" / name).mkdir(parents=True, exist_ok=True)
        (self.folder / "logs").mkdir(parents=True, exist_ok=True)
        config = self.folder / "nginx.conf"
        config.write_text(
            render(
                self.port,
                self.actions_port,
                self.rasa_ports,
                self.action_ports,
                self.web_port,
                self.replica_header,
                self.host,
                self.rate_per_address,
                self.trusted_proxies,
            ),
            encoding="utf-8",
        )
        return config

    def check(self) -> str:
        """`nginx -t` on the rendered file: its output; raises if the file is refused."""
        config = self.write_config()
        done = subprocess.run(
            [self.binary, "-t", "-e", "stderr", "-p", str(self.folder), "-c", str(config)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if done.returncode != 0:
            raise RuntimeError(f"configuration nginx refusée :\n{done.stderr}")
        return done.stderr

    def start(self, log: Path, timeout: float = 30) -> Child:
        config = self.write_config()
        child = spawn(
            "nginx", [self.binary, "-e", "stderr", "-p", str(self.folder), "-c", str(config)], log, cwd=self.folder
        )
        if not wait_until(lambda: tcp_open(self.port) and tcp_open(self.actions_port), timeout, child):
            child.stop()
            raise RuntimeError(f"nginx n'a pas démarré :\n{child.tail()}")
        return child
