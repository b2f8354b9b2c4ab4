"""JSON Schema pieces that the tools' input and output schemas share, and the shape of output schemas."""

from __future__ import annotations

from typing import Annotated, Any, cast

from pydantic import JsonValue, WithJsonSchema

# Any JSON value, said with validation keywords: pydantic writes JsonValue as the empty schema `{}`,
# which schema linters (the MCP Inspector's portability check among them) flag as carrying no
# validation keyword at all; and a `type` array is less portable (dialects with a single `type`,
# such as Gemini's OpenAPI subset) than one branch per type.
ANY_JSON_SCHEMA = {"anyOf": [{"type": t} for t in ("object", "array", "string", "number", "boolean", "null")]}
AnyJson = Annotated[JsonValue, WithJsonSchema(ANY_JSON_SCHEMA)]
# A payload argument (scan_nested, unmask_nested): any JSON value, published with the same schema,
# but handed to the tool as the client sent it. pydantic's JsonValue validator copies the whole
# value (20 ms for a 1 MB payload, as long as the scan); the engine checks every value as it walks
# it anyway, with an error that names the offending one.
JsonArg = Annotated[Any, WithJsonSchema(ANY_JSON_SCHEMA)]
DEFS = "#/$defs/"


def output_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A tool's output schema as clients check it fastest: without ``$ref`` and without null branches.

    - Every local ``$ref`` (``#/$defs/Name``) is replaced by its definition and ``$defs`` goes:
      jsonschema resolves a reference each time it checks an instance against it, which made a
      client's check of a detection cost about 20 us instead of 12 (the schemas are not recursive;
      a recursive one is refused).
    - A member that defaults to None is absent from results, never null: ``anyOf: [T, null]``
      becomes T and the ``default`` goes, so the member is simply optional.
    """
    defs: dict[str, Any] = schema.get("$defs", {})

    def walk(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [walk(x, seen) for x in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(DEFS):
            name = ref.removeprefix(DEFS)
            if name in seen:
                raise ValueError(f"output schema refers to {name} within itself")
            inlined = walk(defs[name], (*seen, name))
            return inlined | {k: walk(v, seen) for k, v in node.items() if k != "$ref"}
        out = {k: walk(v, seen) for k, v in node.items() if k != "$defs"}
        branches = out.get("anyOf")
        if "default" in out and out["default"] is None and isinstance(branches, list):
            kept = [b for b in branches if b != {"type": "null"}]
            if len(kept) == 1 and len(branches) == 2:
                del out["anyOf"], out["default"]
                out = kept[0] | out
        return out

    return cast(dict[str, Any], walk(schema, ()))
