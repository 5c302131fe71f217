"""Work that sends mail, done off the request path by one background thread per portal process.

A form that mails only registered addresses ("forgot password", sign-up's "check your mail")
answered a registered address measurably later than an unknown one: the account's database
work and the SMTP conversation happened while the visitor waited. Such a view now does the
same few steps for every address (validate, hand the work over, answer) and the outbox does
the rest: looking the address up, storing a token, talking to the mail server. Failures are
logged; the visitor's answer never depended on them, so it cannot reveal them either.

The queue lives in the process's memory: mail whose work was handed over but not done when
the process stops is not sent (the visitor can ask again). A full queue (a flood) drops new
work, logged, rather than letting memory grow.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable

from flask import Flask, current_app

_log = logging.getLogger(__name__)
_EXTENSION = "paysystem.mail_outbox"
QUEUE_LIMIT = 1000


class MailOutbox:
    """A bounded queue of callables, run one after another inside `app`'s app context."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._queue: queue.Queue[Callable[[], None]] = queue.Queue(maxsize=QUEUE_LIMIT)
        self._started_in: int | None = None  # pid: a forked worker starts its own thread
        self._start_lock = threading.Lock()

    def submit(self, work: Callable[[], None]) -> None:
        """Run `work` soon, in the background; never blocks and never raises."""
        self._ensure_started()
        try:
            self._queue.put_nowait(work)
        except queue.Full:
            _log.error("mail outbox full (%d waiting): dropped %r", QUEUE_LIMIT, work)

    def wait_until_idle(self, timeout: float = 30.0) -> bool:
        """Whether everything submitted so far has been done within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _ensure_started(self) -> None:
        if self._started_in == os.getpid():
            return
        with self._start_lock:
            if self._started_in != os.getpid():
                threading.Thread(target=self._run, name="mail-outbox", daemon=True).start()
                self._started_in = os.getpid()

    def _run(self) -> None:
        while True:
            work = self._queue.get()
            try:
                with self._app.app_context():
                    work()
            except Exception:  # one failed mail must not stop the ones after it
                _log.exception("mail outbox: %r failed", work)
            finally:
                self._queue.task_done()


def init_mail_outbox(app: Flask) -> None:
    app.extensions[_EXTENSION] = MailOutbox(app)


def mail_outbox(app: Flask | None = None) -> MailOutbox:
    return (app or current_app).extensions[_EXTENSION]
