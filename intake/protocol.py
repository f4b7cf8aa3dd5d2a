"""The HTTP/1.1 protocol the intake runs under uvicorn (`--http intake.protocol:Open311Protocol`).

uvicorn's own httptools protocol answers a request it cannot parse (a Content-Length that is not a
number, a head past the parser's limit near 64 KB) with a plain-text 400, and waits for the headers
of a request for ever. This one answers those in the Open311 error format, refuses a URL over
settings.intake_max_url_bytes with 414 before the parser's limit, and gives a client
settings.intake_body_timeout_seconds to send a request's headers (the body's time is BodyLimit's).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from intake.limits import open311_error_bytes
from settings import get_settings


class UrlTooLong(Exception):
    """The request target grew past the limit while it was parsed."""


class Open311Protocol(HttpToolsProtocol):
    """HttpToolsProtocol with Open311 error bodies for unparsable requests, a URL limit and a header timeout."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.max_url_bytes = settings.intake_max_url_bytes
        self.head_seconds = settings.intake_body_timeout_seconds
        self.url_too_long = False
        self.head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_head_timer()  # a later request on a kept-alive connection gets the same time

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.max_url_bytes:
            self.url_too_long = True
            raise UrlTooLong  # httptools stops parsing; uvicorn answers through send_400_response

    def on_headers_complete(self) -> None:
        self._stop_head_timer()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        if self.url_too_long:
            status, problem = 414, (
                f"The URL is longer than {self.max_url_bytes:,} bytes: ask for at most 1,000 "
                "service_request_id values at a time, or filter by service_code, status and dates."
            )
        else:
            status, problem = 400, (
                "The request is not valid HTTP/1.1: check the request line and the headers (Content-Length "
                "must be a whole number of bytes, sent once)."
            )
        self._answer_and_close(status, problem)

    def _start_head_timer(self) -> None:
        if self.head_timer is None:
            self.head_timer = self.loop.call_later(self.head_seconds, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()  # a response is under way: do not write into it
            return
        problem = f"The request headers did not arrive within {self.head_seconds:g} s: send the request at once."
        self._answer_and_close(408, problem)

    def _answer_and_close(self, status: int, problem: str) -> None:
        body = open311_error_bytes(status, problem)
        head = [STATUS_LINE[status]]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()
