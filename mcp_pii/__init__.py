"""mcp-pii: detect and mask PII in text and JSON, with a Rust engine and an identical Python twin."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from mcp_pii.config import Config, CustomPattern
from mcp_pii.engine import Detection, Engine, MaskResult, NestedDetection, ScanResult, native_available
from mcp_pii.errors import ConfigError, InputError, InternalError, LimitError, PIIError

try:
    __version__ = version("mcp-pii")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = [
    "Config",
    "ConfigError",
    "CustomPattern",
    "Detection",
    "Engine",
    "InputError",
    "InternalError",
    "LimitError",
    "MaskResult",
    "NestedDetection",
    "PIIError",
    "ScanResult",
    "__version__",
    "native_available",
]
