"""JSON Schema pieces that the tools' input and output schemas share."""

from __future__ import annotations

from typing import Annotated

from pydantic import JsonValue, WithJsonSchema

# Any JSON value, said with a validation keyword: pydantic writes JsonValue as the empty schema
# `{}`, which schema linters (the MCP Inspector's portability check among them) flag as carrying
# no validation keyword at all.
ANY_JSON_SCHEMA = {"type": ["object", "array", "string", "number", "boolean", "null"]}
AnyJson = Annotated[JsonValue, WithJsonSchema(ANY_JSON_SCHEMA)]
