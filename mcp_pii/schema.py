"""JSON Schema pieces that the tools' input and output schemas share."""

from __future__ import annotations

from typing import Annotated

from pydantic import JsonValue, WithJsonSchema

# Any JSON value, said with validation keywords: pydantic writes JsonValue as the empty schema `{}`,
# which schema linters (the MCP Inspector's portability check among them) flag as carrying no
# validation keyword at all; and a `type` array is less portable (dialects with a single `type`,
# such as Gemini's OpenAPI subset) than one branch per type.
ANY_JSON_SCHEMA = {"anyOf": [{"type": t} for t in ("object", "array", "string", "number", "boolean", "null")]}
AnyJson = Annotated[JsonValue, WithJsonSchema(ANY_JSON_SCHEMA)]
