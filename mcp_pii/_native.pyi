"""Type stubs for the Rust extension ``mcp_pii._native`` (hand-written; see ``native/lib.rs``)."""

from typing import Any, Self, final

from mcp_pii.detection import PlainDetection, PlainMaskResult, PlainNestedDetection

# `_panic_for_tests` only in builds with the `test-hooks` feature (make setup), not in wheels.
__all__ = [
    "Detection",
    "Engine",
    "MaskResult",
    "NestedDetection",
    "__version__",
    "_panic_for_tests",
    "payload_size",
    "weight",
]

__version__: str

# The result classes (``native/objects.rs``): ``mcp_pii.detection`` names them ``Detection``,
# ``NestedDetection`` and ``MaskResult`` when this module loads; they behave as the plain
# dataclasses there.
Detection = PlainDetection
NestedDetection = PlainNestedDetection
MaskResult = PlainMaskResult

@final
class Engine:
    """A compiled configuration: the Rust twin of :class:`mcp_pii.pyengine.PyEngine`.

    Every method releases the GIL while the Rust core works, so other Python threads run
    meanwhile. Errors are raised as :mod:`mcp_pii.errors` classes; a panic in the core becomes
    :class:`mcp_pii.errors.InternalError`.
    """

    def __new__(cls, config_json: str) -> Self:
        """Compile the catalog with a resolved configuration (``Config.to_engine_json()``).

        Raises:
            ConfigError: The configuration or a custom pattern is invalid.
        """

    def type_ids(self) -> list[str]:
        """Return the enabled type ids in catalog order."""

    def detect(self, text: str, types: list[str] | None = None) -> list[PlainDetection]:
        """Return the detections, sorted by start, as ``Detection`` objects (spans in code points).

        Raises:
            InputError: ``text`` is not a string, has a lone surrogate, or ``types`` names an unknown type.
            LimitError: ``text`` is over ``max_text_bytes``.
        """

    def mask(
        self,
        text: str,
        strategy: str | None = None,
        types: list[str] | None = None,
        tokens: dict[str, dict[str, str]] | None = None,
    ) -> tuple[str, list[PlainDetection]]:
        """Return the masked text and the detections (spans in the input text), as :meth:`detect`.
        Without detections, the masked text is ``text`` itself.

        With ``tokens`` (type id -> value -> token text, assigned ahead of the call by the
        reversible-masking layer), every detection is replaced by its token and ``strategy`` is
        not used.

        Raises:
            InputError: As :meth:`detect`, an unknown strategy, malformed ``tokens``, or a
                detection that ``tokens`` has no token for.
            LimitError: ``text`` is over ``max_text_bytes``.
        """

    def mask_result(self, text: str, strategy: str | None = None, types: list[str] | None = None) -> PlainMaskResult:
        """Return :meth:`mask`'s text and detections as the ``MaskResult`` that ``Engine.mask``
        returns (made by the binding). Errors as :meth:`mask`.
        """

    def mask_counts(
        self, text: str, strategy: str | None = None, types: list[str] | None = None
    ) -> tuple[str, dict[str, int]]:
        """Return :meth:`mask`'s text and the count of detections per type id, in order of first
        appearance, without the detection objects. Errors as :meth:`mask`.
        """

    def scan(
        self,
        data: Any,
        strategy: str | None = None,
        types: list[str] | None = None,
        mask: bool | None = None,
        tokens: dict[str, dict[str, str]] | None = None,
    ) -> tuple[Any, list[PlainNestedDetection], int]:
        """Return the data, the detections as ``NestedDetection`` objects, in traversal order, and
        the UTF-8 bytes of the data's strings (not of its keys; a string holding JSON counts as the
        string it is).

        ``path`` is the RFC 6901 pointer of the string in ``data``; for a detection inside JSON
        held in a string it is that string's, and ``embedded`` holds the pointers within the
        embedded documents, outermost first (empty otherwise).

        The data comes back masked unless ``mask`` is false (None means True). The masked data
        shares what did not change with ``data``: a masked string is a new ``str``, a dict or list
        is new only when something inside it changed, and ``data`` itself comes back when nothing
        did. Tuples and subclasses of the JSON types come back as the plain types. Without
        masking, ``data`` itself comes back.

        The payload is read first (types and limits), then scanned with the interpreter released
        (for payloads whose strings hold 4 KiB or more), then the result is built from what was
        read.

        With ``tokens`` (as for :meth:`mask`), the data is masked and every detection is replaced
        by its token.

        Raises:
            InputError: A value that is not JSON, a lone surrogate, an unknown type or strategy,
                malformed ``tokens``, or a detection that ``tokens`` has no token for.
            LimitError: The payload is over ``max_depth``, ``max_nodes`` or ``max_text_bytes``.
        """

# The sizes of ``native/measure.rs``: as ``mcp_pii.offload.plain_payload_size`` and
# ``mcp_pii.jsonout.plain_weight``.
def payload_size(data: Any, budget: int) -> int: ...
def weight(value: Any, budget: int) -> int: ...
def _panic_for_tests() -> None:
    """Panic inside a guarded call; raises InternalError (for tests).

    Only in builds with the Cargo feature ``test-hooks`` (``make setup``); release wheels leave it out.
    """
