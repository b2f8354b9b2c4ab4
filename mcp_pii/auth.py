"""An optional bearer-token check in front of the HTTP transports."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any

from starlette.responses import JSONResponse


class BearerAuth:
    """ASGI middleware: every HTTP request must carry ``Authorization: Bearer <token>`` (401 otherwise).

    Paths in ``exempt`` (the health check) pass without it; lifespan events always pass.
    """

    def __init__(self, app: Any, token: str, exempt: Iterable[str] = ()) -> None:
        self.app = app
        self._expected = b"Bearer " + token.encode("utf-8")
        self._exempt = frozenset(exempt)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path") not in self._exempt:
            given = b""
            for name, value in scope.get("headers", ()):
                if name == b"authorization":
                    given = value
                    break
            if not hmac.compare_digest(given, self._expected):
                response = JSONResponse(
                    {"error": "unauthorized", "detail": "send Authorization: Bearer <token>"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
