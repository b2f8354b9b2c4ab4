"""An optional bearer-token check in front of the HTTP transports."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any

from starlette.responses import JSONResponse


class BearerAuth:
    """ASGI middleware: every HTTP request must carry ``Authorization: Bearer <token>`` (401 otherwise).

    GET (and HEAD) requests for the paths in ``exempt`` (the health check) pass without it; so do
    lifespan events. Any other method on those paths needs the token like every other request.
    """

    def __init__(self, app: Any, token: str, exempt: Iterable[str] = ()) -> None:
        self.app = app
        self._expected = b"Bearer " + token.encode("utf-8")
        self._exempt = frozenset(exempt)
        self._open_methods = frozenset({"GET", "HEAD"})

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not (
            scope.get("method") in self._open_methods and scope.get("path") in self._exempt
        ):
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
