"""Local child processes: a free loopback port to bind, whether a port is taken, and
children that get SIGTERM when their parent dies, so none is left behind."""

from __future__ import annotations

import ctypes
import signal
import socket
import sys
from collections.abc import Callable


def free_port() -> int:
    """A port free on 127.0.0.1 right now (someone else may take it before it is bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# Resolved here, not in the forked child: no imports or lookups between fork and exec.
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child, between fork and exec
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


# Popen(preexec_fn=DIE_WITH_PARENT): on Linux the child gets SIGTERM if its parent dies.
DIE_WITH_PARENT: Callable[[], None] | None = _die_with_parent if _PRCTL is not None else None
