"""Connecting to Ray for ``--ray ADDRESS|local``: start an in-process instance or join a cluster.

Ray is an optional extra (``pip install 'synthcat[ray]'``) and is imported here only when a caller
asks for it, so ``import catalog`` and ``synthcat --help`` never pay for it.

Why the address is probed before ``ray.init``: Ray has no public connect timeout. Measured here
with Ray 2.60, ``ray.init(address=...)`` on a refused port retried for more than 40 s, and on an
address where something accepts TCP but is not a Ray head it took 20 s, printing a warning line a
second. A user who mistyped an address should hear so in seconds, so :func:`probe_address`

1. opens a plain TCP connection with a short timeout (refused, unreachable or unknown hosts fail
   here, in milliseconds to ``timeout`` seconds), then
2. runs ``ray health-check`` (for ``ray://``: ``ray.init``) in a child Python process that is
   killed after ``timeout`` seconds (something that accepts TCP but never answers as Ray would
   otherwise hang the caller). The check also reports a cluster of another Ray version, or one
   that wants an auth token (``RAY_AUTH_MODE=token``) this process lacks, in one line.

Only when both pass does the calling process join the cluster. The probe is the price of a clear
failure: about as long as a Ray import (1-4 s here) on a cluster job, nothing for ``local``.

Addresses:

* ``local``: start a Ray instance in this process with this machine's CPUs (or join the one this
  process already started, e.g. a test fixture's); it is shut down again by :meth:`RaySession.close`
  only if this session started it.
* ``auto``: the cluster this machine is a node of (Ray's own lookup, as ``ray.init("auto")``).
* ``HOST:PORT``: the GCS address of a cluster's head; the calling process must run on a node of
  that cluster (Ray's rule for drivers).
* ``ray://HOST:PORT``: Ray Client, for a driver outside the cluster.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from catalog.errors import BadInput, MissingDependency, SynthcatError

INSTALL_HINT = "pip install 'synthcat[ray]' (from a checkout: pip install -e '.[ray]')"
CONNECT_TIMEOUT_S = 20.0
CONNECT_TIMEOUT_ENV = "SYNTHCAT_RAY_CONNECT_TIMEOUT"


class RayUnavailable(SynthcatError):
    """The Ray cluster named by ``--ray`` cannot be reached (nothing was changed)."""


def import_ray():
    """The ``ray`` module, or :class:`MissingDependency` naming the install command."""
    try:
        import ray
    except ImportError as exc:
        raise MissingDependency(f"--ray needs Ray, which is not installed: {INSTALL_HINT}") from exc
    return ray


def _host_port(address: str) -> tuple[str, int]:
    rest = address.split("://", 1)[1] if "://" in address else address
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise BadInput(f"'{address}' is not a Ray address: give local, auto, HOST:PORT or ray://HOST:PORT",
                       param="ray")
    return host.strip("[]"), int(port)


def _timeout(timeout: float | None) -> float:
    if timeout is not None:
        return float(timeout)
    raw = os.environ.get(CONNECT_TIMEOUT_ENV, "").strip()
    try:
        return float(raw) if raw else CONNECT_TIMEOUT_S
    except ValueError:
        raise BadInput(f"must be a number of seconds, got {raw!r}", param=CONNECT_TIMEOUT_ENV) from None


# A GCS address is checked with `ray health-check` (which also refuses a cluster of another Ray
# version, or one that wants an auth token this process lacks); a Ray Client address (ray://) by
# connecting a throwaway driver.
_HEALTH_CHECK = "import sys; from ray.scripts.scripts import main; sys.argv[0] = 'ray'; main()"
_CLIENT_PROBE = ("import sys, ray; ray.init(address=sys.argv[1], log_to_driver=False, logging_level='ERROR'); "
                 "ray.shutdown()")


def probe_address(address: str, timeout: float | None = None) -> None:
    """Raise :class:`RayUnavailable` unless a Ray cluster answers at ``address`` within ``timeout`` s."""
    limit = _timeout(timeout)
    host, port = _host_port(address)
    try:
        with socket.create_connection((host, port), timeout=min(limit, 5.0)):
            pass
    except OSError as exc:
        raise RayUnavailable(f"cannot reach a Ray cluster at {address}: {exc.strerror or exc} "
                             "(is the head node up and the port open? nothing was changed)") from None
    try:
        probe = [sys.executable, "-c", _CLIENT_PROBE, address] if address.startswith("ray://") else \
            [sys.executable, "-c", _HEALTH_CHECK, "health-check", "--address", address]
        done = subprocess.run(probe, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        raise RayUnavailable(f"no Ray cluster answered at {address} within {limit:g} s (something accepts "
                             f"connections there but does not answer as a Ray head; raise {CONNECT_TIMEOUT_ENV} "
                             "if the cluster is just slow; nothing was changed)") from None
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.splitlines() if ln.strip() and not ln.startswith("[")]
        reason = lines[-1].strip() if lines else f"exit code {done.returncode}"
        raise RayUnavailable(f"cannot join the Ray cluster at {address}: {reason[:300]} (nothing was changed)")


@dataclass
class RaySession:
    """A joined or started Ray instance; :meth:`close` shuts it down only if this session started it."""

    address: str
    started: bool
    ray: Any = field(repr=False)

    def cpus(self) -> int:
        """CPUs the cluster offers (at least 1): how many embedding actors to run."""
        try:
            return max(1, int(self.ray.cluster_resources().get("CPU", 1)))
        except Exception:  # noqa: BLE001 - a sizing hint only
            return 1

    def close(self) -> None:
        if self.started and self.ray.is_initialized():
            self.ray.shutdown()
        self.started = False


def _quiet(ray) -> None:
    """No per-task log lines from Ray on the user's terminal; failures are reported by synthcat."""
    logging.getLogger("ray").setLevel(logging.ERROR)


def connect(address: str, *, num_cpus: int | None = None, timeout: float | None = None) -> RaySession:
    """Join or start Ray for ``address`` (see the module docstring); never changes a catalog."""
    address = (address or "").strip()
    if not address:
        raise BadInput("give local, auto, HOST:PORT or ray://HOST:PORT", param="ray")
    ray = import_ray()
    if address not in ("local", "auto"):
        probe_address(address, timeout)
    if ray.is_initialized():  # a process joins one Ray instance: one a notebook or test started is used as is
        _quiet(ray)
        return RaySession(address=address, started=False, ray=ray)
    # Ray's C++ core prints warnings to the terminal that are not the user's concern (job errors
    # still arrive as exceptions); RAY_BACKEND_LOG_LEVEL set by the user wins
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    common = {"log_to_driver": False, "logging_level": logging.ERROR, "configure_logging": True}
    if address == "local":
        cpus = num_cpus or os.cpu_count() or 1
        try:
            ray.init(num_cpus=cpus, include_dashboard=False, **common)
        except Exception as exc:  # noqa: BLE001 - Ray's own start-up failure, reported as one line
            raise RayUnavailable(f"cannot start a local Ray instance: {exc.__class__.__name__}: "
                                 f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
    else:
        try:
            ray.init(address=address, **common)
        except Exception as exc:  # noqa: BLE001
            raise RayUnavailable(f"cannot join the Ray cluster at {address}: {exc.__class__.__name__}: "
                                 f"{str(exc).splitlines()[0] if str(exc) else ''} (nothing was changed)") from None
    _quiet(ray)
    return RaySession(address=address, started=True, ray=ray)
