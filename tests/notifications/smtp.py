"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, and readers of the mail."""

from __future__ import annotations

import email
import threading
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller

from tests.providers.harness import free_port, wait_for


class SmtpServer:
    """Accepts every mail and keeps it; `stop()` and `start()` take it down and up on the same port."""

    def __init__(self):
        self.port = free_port()
        self.received: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.received.append(email.message_from_bytes(envelope.content, policy=default_policy))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def start(self) -> SmtpServer:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def mails_to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [mail for mail in self.received if address in mail["To"]]

    def wait_for_mails(self, address: str, count: int, timeout: float = 60.0) -> list[EmailMessage]:
        return wait_for(
            lambda: (mails := self.mails_to(address)) and len(mails) >= count and mails,
            timeout=timeout,
            interval=0.2,
            message=f"{count} mail(s) to {address}",
        )


def text_part(mail: EmailMessage) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()


def html_part(mail: EmailMessage) -> str:
    return mail.get_body(preferencelist=("html",)).get_content()
