"""Logging set-up that keeps payloads out of every log record, and error text without input values."""

from __future__ import annotations

import logging
import re
import sys
import time

from pydantic import ValidationError

# Loggers of the SDK and its HTTP stack that dump whole messages at DEBUG (see mcp's
# server/sse.py, client/streamable_http.py, sse_starlette). They are held at INFO or above
# whatever level the user asks for, so no request or response body is ever logged.
PAYLOAD_LOGGERS = ("mcp", "client", "server", "sse_starlette", "httpx2", "httpcore2", "uvicorn", "starlette")

# Printf-style placeholders in a log template; words that look like ids, tokens or values; quoted text.
_PLACEHOLDER = re.compile(r"%(\([^)]*\))?[-#0 +]*(\*|\d+)?(\.(\*|\d+))?[hlL]?[diouxXeEfFgGcrsa]")
_VALUE_WORD = re.compile(r"[^\s]*[0-9][^\s]{10,}|'[^']*'|\"[^\"]*\"")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escape(text: str) -> str:
    """Control characters as escapes: no value can start a forged log line."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def scrub(message: str, templated: bool) -> str:
    """What is left of a third-party log message once anything a client could have sent is out.

    A template (the message had arguments) keeps its text with each placeholder shown as
    ``<…>``. A message formatted before logging (an f-string) is cut at its first ``": "``,
    where the SDK puts values, and any quoted text or id-like word left in it is withheld.
    """
    if templated:
        text = _PLACEHOLDER.sub("<…>", message).replace("%%", "%")
    else:
        text = message.split("\n", 1)[0].split(": ", 1)[0]
    return _escape(_VALUE_WORD.sub("<…>", text))


_base_factory = logging.getLogRecordFactory()


def _scrubbing_factory(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)  # type: ignore[arg-type]
    if not (record.name == "mcp_pii" or record.name.startswith("mcp_pii.")):
        record.msg = scrub(str(record.msg), bool(record.args))
        record.args = ()
    return record


class SafeFormatter(logging.Formatter):
    """The usual line, with control characters in the message escaped."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = _escape(record.message)
        return super().formatMessage(record)


class Throttled:
    """Logs one line per ``interval`` seconds at most, saying how many were held back meanwhile."""

    def __init__(self, logger: logging.Logger, interval: float = 10.0) -> None:
        self._logger = logger
        self._interval = interval
        self._next = 0.0
        self._held = 0

    def warning(self, message: str) -> None:
        """Log ``message`` (a fixed text) unless one was logged less than ``interval`` ago."""
        now = time.monotonic()
        if now < self._next:
            self._held += 1
            return
        held, self._held, self._next = self._held, 0, now + self._interval
        self._logger.warning("%s%s", message, f" ({held} more held back)" if held else "")


class NoExceptionText(logging.Filter):
    """Drop the text of logged exceptions (a traceback can quote the payload), keeping their type."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is not None:
            record.msg = f"{record.msg} [{record.exc_info[0].__name__}]"
            record.exc_info = None
            record.exc_text = None
        record.stack_info = None
        return True


def configure(level: str = "INFO") -> None:
    """Log to stderr at ``level``; the SDK's and HTTP stack's loggers too, never below INFO, scrubbed of values."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    root = logging.getLogger()
    if not root.handlers:
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(stderr)
    for handler in root.handlers:
        if not any(isinstance(f, NoExceptionText) for f in handler.filters):
            handler.addFilter(NoExceptionText())
    root.setLevel(numeric)
    logging.getLogger("mcp_pii").setLevel(numeric)
    logging.setLogRecordFactory(_scrubbing_factory)
    _configured["level"] = numeric
    clamp_payload_loggers(numeric)


_configured = {"level": logging.INFO}


def clamp_payload_loggers(level: int | None = None) -> None:
    """Hold third-party loggers at ``level`` (default: as configured; INFO or above); strip SDK exception text."""
    floor = max(_configured["level"] if level is None else level, logging.INFO)
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(floor)
    # Child loggers given a level of their own (say by dictConfig) would bypass the parent's.
    for name, child in list(logging.root.manager.loggerDict.items()):
        if isinstance(child, logging.Logger) and name.split(".")[0] in PAYLOAD_LOGGERS and child.level:
            child.setLevel(max(child.level, floor))
    sdk = logging.getLogger("mcp.server.mcpserver.server")
    if not any(isinstance(f, NoExceptionText) for f in sdk.filters):
        sdk.addFilter(NoExceptionText())


# Most argument errors named in one message: a list of 100,000 bad type ids would otherwise give
# a message of some 30 MB (every error repeats the list of valid ids).
MAX_ERRORS_LISTED = 5


def describe_validation_error(exc: ValidationError) -> str:
    """Say which arguments are wrong and how (the first few), without the rejected values."""
    errors = exc.errors(include_input=False, include_url=False, include_context=False)
    parts = []
    for err in errors[:MAX_ERRORS_LISTED]:
        where = ".".join(str(x) for x in err["loc"]) or "arguments"
        parts.append(f"{where}: {err['msg']}")
    if len(errors) > MAX_ERRORS_LISTED:
        parts.append(f"and {len(errors) - MAX_ERRORS_LISTED} more")
    return "invalid arguments: " + "; ".join(parts)
