"""Run the web app with uvicorn: open and check the catalog first, then bind the port.

The catalog is opened (read-only) before the port is bound, so a missing, busy or unreadable
catalog -- or an encrypted one whose key (``SYNTHCAT_KEY``/``SYNTHCAT_KEY_FILE``) is missing or
wrong -- stops ``serve`` with one error line instead of serving error pages.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from catalog.errors import BadInput, SynthcatError

TOKEN_ENV = "SYNTHCAT_SERVE_TOKEN"


@dataclass
class ServePlan:
    """What ``serve`` will do: where, whether it may write, with which token, which Host names it
    answers."""

    url: str
    allow_writes: bool
    token: str | None
    token_from_env: bool
    allowed_hosts: list[str]
    loopback: bool


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plan(host: str, port: int, *, allow_writes: bool = False, token: str | None = None) -> ServePlan:
    """Check the options: a port in range, a token for writes (``token``, else ``$SYNTHCAT_SERVE_TOKEN``,
    else a new random one)."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise BadInput(f"must be from 1 to 65535, got {port!r}", param="port")
    if not host:
        raise BadInput("is empty", param="host")
    from_env = False
    if allow_writes:
        if token is None and os.environ.get(TOKEN_ENV):
            token, from_env = os.environ[TOKEN_ENV], True
        token = token or secrets.token_urlsafe(24)
        if len(token) < 16:
            raise BadInput("the write token must be at least 16 characters", param="token")
    else:
        token = None
    loopback = _is_loopback(host)
    if host in ("0.0.0.0", "::"):
        hosts = ["*"]  # every address of the machine: the Host header can be any of its names
    else:
        hosts = list(dict.fromkeys([host, "127.0.0.1", "localhost"]))
    shown = f"[{host}]" if ":" in host else host
    return ServePlan(url=f"http://{shown}:{port}/", allow_writes=allow_writes, token=token, token_from_env=from_env,
                     allowed_hosts=hosts, loopback=loopback)


def _check_port(host: str, port: int) -> None:
    """Fail with one line when the address is taken (uvicorn would log and exit)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise BadInput(f"cannot resolve {host!r}: {exc.strerror}", param="host") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            raise SynthcatError(f"cannot listen on {host}:{port}: {exc.strerror} (choose another `port`)") from None


def serve(directory: str | Path | None, *, host: str = "127.0.0.1", port: int = 8765, allow_writes: bool = False,
          token: str | None = None, idle_seconds: float = 10.0,
          announce: Callable[[ServePlan], None] | None = None) -> None:
    """Serve the catalog in ``directory`` until interrupted. ``announce`` is called with the plan once
    the catalog is open and search is ready, just before the port is bound."""
    import uvicorn

    from catalog.location import resolve_catalog_dir
    from catalog.web.app import create_app
    from catalog.web.handle import SharedCatalog

    chosen = plan(host, port, allow_writes=allow_writes, token=token)
    _check_port(host, port)
    shared = SharedCatalog(resolve_catalog_dir(directory), idle_seconds=idle_seconds)
    shared.check()
    try:
        shared.search("warm up", 1, {"mode": "hybrid"})  # loads the embedder and indexes once, up front
    except SynthcatError:
        pass  # an empty catalog, or a busy one: pages will say so when asked
    app = create_app(shared, allow_writes=chosen.allow_writes, token=chosen.token, allowed_hosts=chosen.allowed_hosts)
    shared.start_idle_closer()
    if announce is not None:
        announce(chosen)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        shared.close()
