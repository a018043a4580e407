"""Request body size limit, enforced on the Content-Length header and on the bytes read."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _reason(limit: int, size: int | None) -> bytes:
    got = f"{size:,} bytes" if size is not None else "more than that"
    body = {"detail": f"request body too large: {got}; the limit is {limit:,} bytes",
            "reason": f"请求内容过大（上限 {limit:,} 字节）"}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


class BodySizeLimitMiddleware:
    """413 for a body over ``max_bytes``: by its Content-Length, or by the bytes actually sent.

    The body is read up front (it is at most ``max_bytes``) and replayed to the app, so a
    client that lies about its length, or streams without one, is cut off at the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = None
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
                break
        if declared is not None and declared > self.max_bytes:
            await self._reject(send, declared)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(send, None)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send: Send, size: int | None) -> None:
        payload = _reason(self.max_bytes, size)
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json; charset=utf-8"),
                                (b"content-length", str(len(payload)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})
