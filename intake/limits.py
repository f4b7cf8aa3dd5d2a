"""ASGI middleware reading a request body within a size and a time limit, refusing in the Open311 error format."""

from __future__ import annotations

import asyncio
import json

BODY_METHODS = {"POST", "PUT", "PATCH"}


def open311_error_bytes(status: int, problem: str) -> bytes:
    """An Open311 error body of one problem, for answers given below the application (no JSONResponse)."""
    return json.dumps([{"code": status, "description": problem}], ensure_ascii=False).encode()


class BodyLimit:
    """Reads a request body up to max_bytes (by Content-Length or as it streams) and within max_seconds
    (a client that stalls mid-body would otherwise hold its connection and a task forever) before the
    app sees it."""

    def __init__(self, app, max_bytes: int, max_seconds: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, 413, self._too_large(int(declared)))
            return
        try:
            async with asyncio.timeout(self.max_seconds):
                body = await self._read(receive)
        except TimeoutError:
            problem = (
                f"The body did not arrive within {self.max_seconds:g} s: send the whole request at once "
                "(and a Content-Length that matches it)."
            )
            await self._refuse(send, 408, problem)
            return
        except _Refused as refused:
            await self._refuse(send, 413, self._too_large(refused.size))
            return
        if body is None:
            return  # the client went away: nothing to answer
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, receive) -> bytes | None:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise _Refused(size)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self, size: int) -> str:
        return (
            f"The body is {size:,} bytes or more; the limit is {self.max_bytes:,} bytes: send one "
            "request per call, with a shorter description (at most 500 characters)."
        )

    async def _refuse(self, send, status: int, problem: str) -> None:
        payload = open311_error_bytes(status, problem)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


class _Refused(Exception):
    """The body grew past the limit while it streamed."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size
