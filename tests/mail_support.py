"""A real SMTP server in the test process (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import asyncio
import email
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message

from aiosmtpd.controller import Controller

from tests.support import free_port


class Inbox:
    """aiosmtpd handler: every accepted message, parsed."""

    def __init__(self, delay: float = 0.0) -> None:
        self.messages: list[Message] = []
        self.delay = delay  # seconds each message takes to be accepted: a slow mail server

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [message for message in self.messages if message["To"] == address]

    def wait_for(self, to: str, timeout: float = 10.0) -> Message:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages:
                if message["To"] == to:
                    return message
            time.sleep(0.05)
        raise AssertionError(f"no mail to {to} arrived")

    @staticmethod
    def link(message: Message) -> str:
        body = message.get_payload(decode=True).decode()
        match = re.search(r"https?://\S+/auth/reset/\S+", body)
        assert match, body
        return match.group(0)


@contextmanager
def smtp_server(delay: float = 0.0) -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(delay), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
