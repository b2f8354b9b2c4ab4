"""What the server's reversible masking is made of: the ``reversible``/``scope`` arguments of
mask_pii and scan_nested, the results and descriptions of the unmask_pii, unmask_nested and
forget_scope tools (registered by :mod:`mcp_pii.server`, only when the configuration sets
``allow_unmask``: they hand personal data back), and the start-up check of the vault.

No ``from __future__ import annotations`` here: the SDK reads the tool signatures' annotations
as real objects.
"""

import asyncio
import logging
from typing import Annotated, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from mcp_pii.config import Config
from mcp_pii.errors import VaultUnavailableError
from mcp_pii.schema import AnyJson
from mcp_pii.vault import Vault

logger = logging.getLogger("mcp_pii.server")

T = TypeVar("T")

# Scope ids are minted by the server (32 URL-safe characters); anything else names no scope.
ScopeId = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9_-]+$")]
ReversibleArg = Annotated[
    bool,
    Field(
        description=(
            "Replace each value by a token that unmask_pii can turn back into it, e.g. [EMAIL_1#k3f9qa]; "
            "the result carries the scope id to pass to later calls."
        )
    ),
]
ScopeArg = Annotated[
    ScopeId | None,
    Field(
        description=(
            "With reversible=true: the scope id from an earlier call, so that the same value keeps the same "
            "token; omit it to start a new scope."
        )
    ),
]
SCOPE_FIELD = Field(
    None,
    description="Scope id of reversible masking: pass it to later calls and to unmask_pii.",
    exclude_if=lambda v: v is None,
)
UNMASK_PII_DOC = (
    "Put the original values back into a text holding reversible tokens such as [EMAIL_1#k3f9qa], made "
    "by mask_pii or scan_nested with reversible=true. Use it right before the real values are needed, "
    "e.g. to fill in the recipient of an e-mail the user asked you to send to [EMAIL_1#k3f9qa]; do not "
    "use it to show, store or log data. Pass the scope returned by the call that made the tokens. Tokens "
    "of other scopes, expired or unknown tokens are left as they are and counted. The result holds "
    "personal data."
)
UNMASK_NESTED_DOC = (
    "Put the original values back into every string of a JSON value (also inside strings holding "
    "JSON) that holds reversible tokens made by mask_pii or scan_nested with reversible=true, e.g. "
    "the arguments of a tool call written with tokens. Pass the scope returned by the call that made "
    "the tokens. Object keys are left as they are; so are tokens of other scopes, expired or unknown "
    "ones, which are counted. The result holds personal data."
)
FORGET_DOC = (
    "Delete a scope of reversible masking and every value it holds, now (right to erasure): its "
    "tokens can no longer be unmasked. Call it when the work that needed the tokens is done."
)
# Unmasking reads private data and changes nothing; forgetting deletes it for good.
UNMASK = ToolAnnotations(read_only_hint=True, open_world_hint=False, idempotent_hint=True, destructive_hint=False)
FORGET = ToolAnnotations(read_only_hint=False, open_world_hint=False, idempotent_hint=True, destructive_hint=True)


def probe_vault(config: Config) -> None:
    """Check at start-up that the configured vault works: a bad key or an unreachable Redis is a clear error.

    Never falls back to memory. Uses a vault of its own, on an event loop of its own (the server's
    vault connects later, on the server's loop).
    """
    vault = Vault.from_config(config)
    if vault.kind == "memory":
        return

    async def ping() -> None:
        try:
            await vault.ping()
        finally:
            await vault.aclose()

    try:
        asyncio.run(ping())
    except VaultUnavailableError:
        raise VaultUnavailableError(
            f"cannot reach the vault at {vault.where}: start Redis there, or fix vault_url (MCP_PII_VAULT_URL)"
        ) from None


def scope_without_reversible() -> ToolError:
    """The error for a scope passed without reversible=true."""
    return ToolError("a scope is only used with reversible=true; set reversible=true or leave scope out")


class UnmaskCounts(BaseModel):
    """What unmasking did with the tokens it found."""

    restored: int = Field(description="Tokens replaced by their values.")
    unknown: int = Field(
        description="Tokens of this scope that stand for no value (expired, forgotten or never assigned): left as is."
    )
    foreign: int = Field(description="Tokens of other scopes: left as they are.")


class UnmaskOutput(UnmaskCounts):
    """Result of unmask_pii."""

    text: str = Field(description="The text with every token of the scope replaced by its original value.")


class UnmaskNestedOutput(UnmaskCounts):
    """Result of unmask_nested."""

    data: AnyJson = Field(description="The payload with every token of the scope replaced by its original value.")


class ForgetOutput(BaseModel):
    """Result of forget_scope."""

    forgotten: bool = Field(description="True if the scope existed and is now deleted; false if there was none.")
