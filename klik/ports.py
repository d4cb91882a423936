"""Whether an address can be listened on, asked before anything slow starts."""

from __future__ import annotations

import socket


def port_problem(host: str, port: int) -> str | None:
    """None when ``host:port`` is free to listen on; otherwise the operating system's reason.

    The socket is bound and closed at once; SO_REUSEADDR is not set, so a port that a running
    server holds is reported as taken.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def taken_port_message(host: str, port: int, reason: str) -> str:
    """What to tell someone whose port is taken, with the commands that avoid it."""
    other = port + 1 if port < 65535 else 8051
    return (
        f"Poort {port} op {host} is niet beschikbaar ({reason}); er draait waarschijnlijk al "
        f"een server. Kies een andere poort, bijvoorbeeld:\n"
        f"  KLIK_PORT={other} make demo      of      klik demo --port {other}\n"
        f"Port {port} on {host} is not available ({reason}); another server is probably "
        f"running. Choose another port, e.g. KLIK_PORT={other} make demo or "
        f"klik demo --port {other}."
    )
