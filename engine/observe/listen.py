"""Binding a listening TCP socket, without the HTTP stack.

:mod:`engine.observe.http` serves on sockets bound here; ``run-csv --metrics-port`` binds
in the replay process and hands the socket to its endpoint process, so a busy port or a
bad host is an error at once and port 0 reports the real port before anything is served.
"""

from __future__ import annotations

import socket

from engine.errors import BadInputError, IOFailureError

__all__ = ["BACKLOG", "bind_listener", "exposure_warning", "is_loopback"]

#: Connections the kernel queues while the server is busy (or still starting).
BACKLOG = 2048


def bind_listener(host: str, port: int) -> socket.socket:
    """A non-blocking socket listening on ``host:port`` (0: any free port)."""
    # an ASCII name as bytes: no idna codec to load for the usual "127.0.0.1"
    name: str | bytes = host.encode() if host.isascii() else host
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise BadInputError(f"cannot resolve the host {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise IOFailureError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            "pick a free port, or 0 for any",
        ) from None
    sock.setblocking(False)
    return sock


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``127.0.0.0/8``, ``::1``, localhost)."""
    if host in ("localhost", "ip6-localhost", "127.0.0.1", "::1"):
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, token: bytes | None, what: str) -> str | None:
    """The warning to log when ``what`` listens beyond this machine with no token."""
    if token is not None or is_loopback(host):
        return None
    return (
        f"{what} listens on {host}, beyond this machine, with no token: anyone who can "
        "reach it can read it (set ADHASH_TOKEN or --token-file)"
    )
