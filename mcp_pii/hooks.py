"""The hook logic on the traffic path: mask (or block on) PII in MCP payloads, whichever adapter calls it.

One :class:`PIIFilter` serves the ContextForge plugin in the gateway's process
(:mod:`mcp_pii.contextforge`), the external plugin over MCP (:mod:`mcp_pii.plugin_server`) and
the MCP proxy (:mod:`mcp_pii.proxy`). It takes a hook type and the hook's payload in the wire
shape the ContextForge gateway uses (plain dicts and lists), and returns an :class:`Outcome`:
the payload with its PII masked (or ``None`` when nothing changed), or a :class:`Violation`.

What is scanned, per hook:

=====================  =====================================================================
``tool_pre_invoke``     ``args`` (when ``mask_arguments`` is on)
``tool_post_invoke``    ``result``: every text item and embedded resource text of ``content``,
                        and ``structuredContent``; a result of any other shape as a whole
``prompt_pre_fetch``    ``args`` (when ``mask_arguments`` is on)
``prompt_post_fetch``   ``result.messages[*].content`` (text and embedded resources);
                        a result of any other shape as a whole
``resource_pre_fetch``  nothing (a URI is an address, not content)
``resource_post_fetch`` ``content``: its ``text``, or each item's ``text`` for a list
=====================  =====================================================================

URIs, MIME types, ``_meta``, binary blobs and object keys are left as they are. All targets of one
payload go to the engine in one call, so the limits apply to the payload as a whole and a value
gets the same token everywhere in it. Fail closed: a payload the engine refuses (over a limit,
malformed) gives a violation, never the raw payload.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from mcp_pii.config import Strategy
from mcp_pii.engine import Engine, ScanResult
from mcp_pii.errors import ConfigError, LimitError, PIIError
from mcp_pii.offload import payload_size, run_engine
from mcp_pii.vault import Vault

logger = logging.getLogger("mcp_pii.hooks")

HookType = Literal[
    "tool_pre_invoke",
    "tool_post_invoke",
    "prompt_pre_fetch",
    "prompt_post_fetch",
    "resource_pre_fetch",
    "resource_post_fetch",
]
HOOK_TYPES: tuple[HookType, ...] = get_args(HookType)
# Violation codes. PII_DETECTED is the one ContextForge maps to HTTP 422.
PII_DETECTED = "PII_DETECTED"
PII_SCAN_FAILED = "PII_SCAN_FAILED"

_WHERE: dict[str, str] = {
    "tool_pre_invoke": "tool arguments",
    "tool_post_invoke": "tool result",
    "prompt_pre_fetch": "prompt arguments",
    "prompt_post_fetch": "prompt messages",
    "resource_pre_fetch": "resource request",
    "resource_post_fetch": "resource content",
}

Path = tuple[str | int, ...]


class ToolRule(BaseModel):
    """What to do for the tools whose name matches a glob; the first matching rule wins."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    match: str = Field(description="Tool-name glob (fnmatch), e.g. 'fs-*' or 'read_file'.")
    skip: bool = Field(False, description="Leave these tools' arguments and results alone.")
    strategy: Strategy | None = Field(None, description="One strategy for every type (default: the configured ones).")
    types: list[str] | None = Field(None, description="Only these types (default: every enabled type).")


class HookPolicy(BaseModel):
    """How the hooks treat payloads; the engine's configuration decides what is PII and how it is masked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    block_on_detection: bool = Field(False, description="Refuse a payload holding PII instead of masking it.")
    mask_arguments: bool = Field(
        True, description="Scan tool and prompt arguments (before the call), not only results."
    )
    tools: list[ToolRule] = Field(default_factory=list, description="Per-tool rules, by tool-name glob.")
    max_collection_items: int | None = Field(None, ge=1, description="Most items in one list or object, else refuse.")
    log_detections: bool = Field(False, description="Log the counts per type of each masked payload (never values).")
    include_detection_details: bool = Field(False, description="Put the counts per type into the outcome's metadata.")


@dataclass(frozen=True, slots=True)
class Violation:
    """Why a payload was refused. Never holds a detected value: types, counts and sizes only."""

    code: str
    reason: str
    description: str
    details: dict[str, Any] = field(default_factory=dict)
    http_status: int = 422


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one hook: a masked payload (``None``: unchanged) or a violation."""

    payload: dict[str, Any] | None = None
    violation: Violation | None = None
    counts: dict[str, int] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def continue_processing(self) -> bool:
        """False when the payload must not go on."""
        return self.violation is None


UNCHANGED = Outcome()


class PIIFilter:
    """An engine plus a :class:`HookPolicy`: applies one hook to one payload."""

    __slots__ = ("engine", "policy")

    def __init__(self, engine: Engine, policy: HookPolicy | None = None) -> None:
        self.engine = engine
        self.policy = policy if policy is not None else HookPolicy()
        enabled = set(engine.types)
        for rule in self.policy.tools:
            for name in rule.types or ():
                if name not in enabled:
                    raise ConfigError(f"tool rule '{rule.match}' names type '{name}', which is not enabled")

    def rule_for(self, names: Sequence[str]) -> ToolRule | None:
        """The first tool rule whose glob matches one of ``names`` (a tool may be known by several)."""
        for rule in self.policy.tools:
            if any(fnmatch.fnmatchcase(name, rule.match) for name in names):
                return rule
        return None

    async def arun(
        self,
        hook: str,
        payload: Mapping[str, Any],
        *,
        aliases: Sequence[str] = (),
        vault: Vault | None = None,
        scope: str | None = None,
    ) -> Outcome:
        """:meth:`run` for an event loop: large payloads are scanned in a worker thread (``mcp_pii.offload``).

        With a ``vault``, masking is reversible: every detection becomes a token of ``scope``,
        which :meth:`mcp_pii.Engine.unmask` turns back into the value (per-tool strategies do
        not apply then).
        """
        if vault is None:
            return await run_engine(payload_size(payload), partial(self.run, hook, payload, aliases=aliases))
        plan = self._plan(hook, payload, aliases)
        if isinstance(plan, Outcome):
            return plan
        try:
            if self.policy.block_on_detection:
                work = partial(self.engine.scan, plan.values, None, plan.types, False)
                scanned = await run_engine(payload_size(plan.values), work)
            else:
                scanned = await self.engine.scan(plan.values, None, plan.types, vault=vault, scope=scope)
        except PIIError as exc:
            return _scan_failed(plan.where, exc)
        return self._outcome(payload, plan, scanned)

    def run(self, hook: str, payload: Mapping[str, Any], *, aliases: Sequence[str] = ()) -> Outcome:
        """Apply ``hook`` to ``payload``; ``aliases`` are other names of the tool (for the per-tool rules)."""
        plan = self._plan(hook, payload, aliases)
        if isinstance(plan, Outcome):
            return plan
        try:
            scanned = self.engine.scan(plan.values, plan.strategy, plan.types, mask=not self.policy.block_on_detection)
        except PIIError as exc:
            return _scan_failed(plan.where, exc)
        return self._outcome(payload, plan, scanned)

    def _plan(self, hook: str, payload: Mapping[str, Any], aliases: Sequence[str]) -> _Plan | Outcome:
        """What to scan in ``payload`` and how; or the outcome already (nothing to scan, skipped, refused)."""
        if hook not in _WHERE:
            raise ValueError(f"unknown hook type '{hook}'; expected one of: {', '.join(HOOK_TYPES)}")
        where = _WHERE[hook]
        if not isinstance(payload, Mapping):
            return _refused(where, "the payload is not an object", 422)
        strategy = types = None
        if hook.startswith("tool_"):
            name = payload.get("name")
            rule = self.rule_for([name, *aliases] if isinstance(name, str) else list(aliases))
            if rule is not None:
                if rule.skip:
                    return UNCHANGED
                strategy, types = rule.strategy, rule.types
        paths = _targets(hook, payload, self.policy.mask_arguments)
        if not paths:
            return UNCHANGED
        values = [_get(payload, p) for p in paths]
        limit = self.policy.max_collection_items
        if limit is not None and any(_too_many_items(v, limit) for v in values):
            return _refused(where, f"a list or object has more than {limit} items (max_collection_items)", 413)
        return _Plan(where, paths, values, strategy, types)

    def _outcome(self, payload: Mapping[str, Any], plan: _Plan, scanned: ScanResult) -> Outcome:
        """The masked payload, or the violation, from what the engine found."""
        counts: dict[str, int] = {}
        for d in scanned.detections:
            counts[d.type] = counts.get(d.type, 0) + 1
        if not counts:
            return UNCHANGED
        total = sum(counts.values())
        if self.policy.log_detections:
            logger.info("%s: %d detections %s", plan.where, total, counts)
        metadata = (
            {"pii_detections": {"counts": counts, "total": total}} if self.policy.include_detection_details else {}
        )
        if self.policy.block_on_detection:
            violation = Violation(
                code=PII_DETECTED,
                reason=f"PII detected in {plan.where}",
                description=f"PII detected in {plan.where} ({total} in all): " + _summary(counts),
                details={"counts": counts, "total": total, "detected_types": sorted(counts), "where": plan.where},
            )
            return Outcome(violation=violation, counts=counts, metadata=metadata)
        masked = _rebuild(payload, zip(plan.paths, scanned.data, strict=True))
        return Outcome(payload=masked, counts=counts, metadata=metadata)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What one hook scans: where (for messages), the paths and their values, and how."""

    where: str
    paths: list[Path]
    values: list[Any]
    strategy: str | None
    types: list[str] | None


def _scan_failed(where: str, exc: PIIError) -> Outcome:
    """The engine (or the vault) refused the payload: over a limit (413), or anything else (422)."""
    return _refused(where, str(exc), 413 if isinstance(exc, LimitError) else 422)


def _summary(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{t}={n}" for t, n in sorted(counts.items()))


def _refused(where: str, why: str, status: int) -> Outcome:
    """Fail closed: the payload could not be scanned, so it does not go on."""
    return Outcome(
        violation=Violation(
            code=PII_SCAN_FAILED,
            reason=f"{where} could not be scanned for PII",
            description=f"{where} could not be scanned for PII, so it was refused: {why}",
            details={"where": where},
            http_status=status,
        )
    )


def _targets(hook: str, payload: Mapping[str, Any], mask_arguments: bool) -> list[Path]:
    """The paths of the values to scan in a payload of ``hook``."""
    if hook in ("tool_pre_invoke", "prompt_pre_fetch"):
        return [("args",)] if mask_arguments and payload.get("args") else []
    if hook == "tool_post_invoke":
        return _tool_result_targets(payload.get("result"))
    if hook == "prompt_post_fetch":
        return _prompt_result_targets(payload.get("result"))
    if hook == "resource_post_fetch":
        content = payload.get("content")
        if isinstance(content, list):
            return [p for i, item in enumerate(content) for p in _text_of(item, ("content", i))]
        return _text_of(content, ("content",))
    return []


def _tool_result_targets(result: Any) -> list[Path]:
    if not isinstance(result, Mapping) or not isinstance(result.get("content"), list):
        return [] if result is None else [("result",)]
    paths = [p for i, item in enumerate(result["content"]) for p in _block_text(item, ("result", "content", i))]
    for key in ("structuredContent", "structured_content"):
        if result.get(key) is not None:
            paths.append(("result", key))
    return paths


def _prompt_result_targets(result: Any) -> list[Path]:
    if not isinstance(result, Mapping) or not isinstance(result.get("messages"), list):
        return [] if result is None else [("result",)]
    paths: list[Path] = []
    for i, message in enumerate(result["messages"]):
        where: Path = ("result", "messages", i, "content")
        content = message.get("content") if isinstance(message, Mapping) else None
        if isinstance(content, list):
            paths += [p for j, block in enumerate(content) for p in _block_text(block, (*where, j))]
        else:
            paths += _block_text(content, where)
    return paths


def _block_text(block: Any, path: Path) -> list[Path]:
    """The text of an MCP content block: a text item, or the text of an embedded resource."""
    if not isinstance(block, Mapping):
        return [path] if isinstance(block, str) else []
    if isinstance(block.get("text"), str):
        return [(*path, "text")]
    if isinstance(block.get("resource"), Mapping) and isinstance(block["resource"].get("text"), str):
        return [(*path, "resource", "text")]
    return []


def _text_of(content: Any, path: Path) -> list[Path]:
    """The text of resource contents (a string, or an object with ``text``); blobs are left alone."""
    if isinstance(content, str):
        return [path]
    if isinstance(content, Mapping) and isinstance(content.get("text"), str):
        return [(*path, "text")]
    return []


def _get(payload: Any, path: Path) -> Any:
    for key in path:
        payload = payload[key]
    return payload


def _rebuild(payload: Mapping[str, Any], updates: Any) -> dict[str, Any]:
    """A copy of ``payload`` with the values at some paths replaced; only the containers on those paths are copied."""
    root = dict(payload)
    copied = {id(root)}
    for path, value in updates:
        node: Any = root
        for key in path[:-1]:
            child = node[key]
            if id(child) not in copied:
                child = dict(child) if isinstance(child, Mapping) else list(child)
                node[key] = child
                copied.add(id(child))
            node = child
        node[path[-1]] = value
    return root


def _too_many_items(value: Any, limit: int) -> bool:
    """True if a list or object anywhere in ``value`` (strings aside) holds more than ``limit`` items."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            if len(item) > limit:
                return True
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            if len(item) > limit:
                return True
            stack.extend(item)
    return False
