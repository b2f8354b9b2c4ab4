"""Logging set-up that keeps payloads out of every log record, and error text without input values."""

from __future__ import annotations

import logging
import sys

from pydantic import ValidationError

# Loggers of the SDK and its HTTP stack that dump whole messages at DEBUG (see mcp's
# server/sse.py, client/streamable_http.py, sse_starlette). They are held at INFO or above
# whatever level the user asks for, so no request or response body is ever logged.
PAYLOAD_LOGGERS = ("mcp", "client", "server", "sse_starlette", "httpx2", "httpcore2", "uvicorn")


class NoExceptionText(logging.Filter):
    """Drop the text of logged exceptions (a traceback can quote the payload), keeping their type."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is not None:
            record.msg = f"{record.msg} [{record.exc_info[0].__name__}]"
            record.exc_info = None
            record.exc_text = None
        return True


def configure(level: str = "INFO") -> None:
    """Log to stderr at ``level`` for mcp-pii; the SDK's payload loggers never below INFO."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    root = logging.getLogger()
    if not root.handlers:
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(stderr)
    for handler in root.handlers:
        if not any(isinstance(f, NoExceptionText) for f in handler.filters):
            handler.addFilter(NoExceptionText())
    root.setLevel(numeric)
    logging.getLogger("mcp_pii").setLevel(numeric)
    clamp_payload_loggers(max(logging.INFO, numeric))


def clamp_payload_loggers(level: int = logging.INFO) -> None:
    """Hold the payload-dumping loggers at ``level`` (INFO or above) and strip exception text from the SDK's."""
    floor = max(level, logging.INFO)
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
