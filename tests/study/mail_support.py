"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the mail tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message


def free_port() -> int:
    """A loopback port nothing listens on (at the moment of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd handler that keeps every message it receives, thread-safely."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        with self._lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def by_outbox_id(self) -> dict[int, list[Message]]:
        """Every copy received, per outbox row."""
        with self._lock:
            found: dict[int, list[Message]] = {}
            for _, message in self.messages:
                found.setdefault(int(message["X-Klik-Outbox-Id"]), []).append(message)
            return found


@contextmanager
def smtp_on(port: int, inbox: Inbox) -> Iterator[None]:
    """An SMTP server on 127.0.0.1:``port`` delivering into ``inbox`` while the block runs."""
    from aiosmtpd.controller import Controller

    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield
    finally:
        controller.stop()
