"""The bearer token that guards the HTTP transports: where it comes from and how a request shows it."""

from __future__ import annotations

import hmac
import os
from pathlib import Path

ENV_VAR = "MCP_PII_AUTH_TOKEN"


class TokenError(ValueError):
    """The configured token is unusable (empty, blank, unreadable); the server does not start."""


def _check(token: str, where: str) -> str:
    if not token:
        raise TokenError(f"the auth token from {where} is empty: give a real token, or no token at all")
    if not token.strip():
        raise TokenError(f"the auth token from {where} is blank: give a real token, or no token at all")
    if any(c.isspace() for c in token) or not token.isascii() or not token.isprintable():
        raise TokenError(f"the auth token from {where} must be printable ASCII without spaces")
    return token


def load_token(flag: str | None, file: str | None, environ: dict[str, str] | None = None) -> str | None:
    """The token from ``--auth-token-file``, ``--auth-token`` or ``$MCP_PII_AUTH_TOKEN`` (in that order).

    A variable that is set but empty or blank is an error, not "no auth": ``MCP_PII_AUTH_TOKEN=``
    in a unit file must not silently open the server. None means no token was configured.
    """
    env = os.environ if environ is None else environ
    if file is not None:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or "not UTF-8"
            raise TokenError(f"cannot read --auth-token-file: {why}") from None
        return _check(text.strip("\r\n"), "--auth-token-file")
    if flag is not None:
        return _check(flag, "--auth-token")
    if ENV_VAR in env:
        return _check(env[ENV_VAR], ENV_VAR)
    return None


class BearerToken:
    """Checks ``Authorization`` header values: scheme ``Bearer`` (any case), one or more spaces, the token."""

    def __init__(self, token: str) -> None:
        self._expected = token.encode("ascii")

    def accepts(self, header: bytes | None) -> bool:
        """Whether an ``Authorization`` header value carries the token (in constant time)."""
        if not header:
            return False
        scheme, _, rest = header.partition(b" ")
        given = rest.lstrip(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(given, self._expected)
