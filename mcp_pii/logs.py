"""Logging set-up that keeps payloads out of every log record, and error text without input values."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from contextvars import ContextVar
from dataclasses import dataclass, field

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


# The SDK's INFO lines that come once per request or session (a stateless server logs
# "Terminating session" for every call): shown at DEBUG only.
_CHATTER = ("Terminating session", "Created new transport", "Rejected request with unknown", "Session ")

_base_factory = logging.getLogRecordFactory()


def _scrubbing_factory(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)  # type: ignore[arg-type]
    if not (record.name == "mcp_pii" or record.name.startswith("mcp_pii.")):
        if record.levelno == logging.INFO and record.name.startswith("mcp.") and str(record.msg).startswith(_CHATTER):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        record.msg = scrub(str(record.msg), bool(record.args))
        record.args = ()
    return record


class LevelFloor(logging.Filter):
    """Drop records below the configured level (those the factory demoted after the logger let them through)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= _configured["level"]


class SafeFormatter(logging.Formatter):
    """The usual line, with control characters in the message escaped."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = _escape(record.message)
        return super().formatMessage(record)


# Fields a record may carry (our own per-call line) that the JSON format writes out.
CALL_FIELDS = ("request_id", "tool", "outcome", "duration_ms", "bytes", "counts")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the per-call fields when present."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CALL_FIELDS:
            if hasattr(record, name):
                out[name] = getattr(record, name)
        return json.dumps(out, ensure_ascii=False)


@dataclass
class CallRecord:
    """What one tool call scanned and found, for its log line (type ids and numbers only)."""

    request_id: str
    nbytes: int = 0
    counts: dict[str, int] = field(default_factory=dict)


# The record of the tool call running in this context (a worker thread gets a copy of the
# context, which holds the same record).
CURRENT_CALL: ContextVar[CallRecord | None] = ContextVar("mcp_pii_call", default=None)


def log_call(tool: str, outcome: str, seconds: float, record: CallRecord) -> None:
    """The line of one tool call: tool, outcome, duration, bytes and counts by type; never a value.

    At INFO with ``--log-format json`` (a line per call is what log pipelines want), else at DEBUG.
    """
    level = _configured["call_level"]
    if not _calls.isEnabledFor(level):
        return
    ms = round(seconds * 1000, 3)
    found = ", ".join(f"{t}={n}" for t, n in record.counts.items()) or "nothing found"
    fields = {"request_id": record.request_id, "tool": tool, "outcome": outcome, "duration_ms": ms}
    fields |= {"bytes": record.nbytes, "counts": record.counts}
    _calls.log(
        level,
        "%s %s in %.3f ms, %d bytes, %s (request %s)",
        tool,
        outcome,
        ms,
        record.nbytes,
        found,
        record.request_id,
        extra=fields,
    )


_calls = logging.getLogger("mcp_pii.calls")


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


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Log to stderr at ``level``, as text lines or (``fmt="json"``) JSON objects.

    The SDK's and HTTP stack's loggers too, never below INFO, scrubbed of values.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stderr, sys.__stderr__):
            handler.setFormatter(
                JsonFormatter() if fmt == "json" else SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
            )
    _configured["call_level"] = logging.INFO if fmt == "json" else logging.DEBUG
    for handler in root.handlers:
        if not any(isinstance(f, NoExceptionText) for f in handler.filters):
            handler.addFilter(NoExceptionText())
        if not any(isinstance(f, LevelFloor) for f in handler.filters):
            handler.addFilter(LevelFloor())
    root.setLevel(numeric)
    logging.getLogger("mcp_pii").setLevel(numeric)
    logging.setLogRecordFactory(_scrubbing_factory)
    _configured["level"] = numeric
    clamp_payload_loggers(numeric)


_configured = {"level": logging.INFO, "call_level": logging.DEBUG}


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
