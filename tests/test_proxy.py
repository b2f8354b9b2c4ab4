"""``mcp-pii proxy`` with the SDK client in front, and the test upstream (tests/e2e/upstream.py) behind it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from servers import free_port, running, running_server, server_env

from mcp_pii.tokens import TOKEN

UPSTREAM = [sys.executable, str(Path(__file__).parent / "e2e" / "upstream.py")]
EMAIL = "bob@example.com"
PROXY = [sys.executable, "-m", "mcp_pii", "proxy", "--log-level", "WARNING"]


def over_stdio(*proxy_args: str) -> Client:
    """A client of ``mcp-pii proxy ARGS`` run as a subprocess (the proxy then starts the upstream)."""
    return Client(StdioServerParameters(command=PROXY[0], args=[*PROXY[1:], *proxy_args], env=server_env()))


def run_proxy(*args: str) -> subprocess.CompletedProcess[str]:
    """``mcp-pii proxy ARGS`` with nothing on stdin: for the ways it refuses to start."""
    return subprocess.run(
        [*PROXY, *args], input="", capture_output=True, text=True, timeout=60, env=server_env(), check=False
    )


def run(client: Client, body: Callable[[Client], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        async with client:
            return await body(client)

    return anyio.run(go)


@pytest.fixture(scope="module")
def upstream_http() -> Iterator[str]:
    """The upstream on Streamable HTTP."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with running([*UPSTREAM, "--port", str(port)], url, stderr=subprocess.DEVNULL):
        yield url


async def listings(client: Client) -> dict[str, Any]:
    """Everything a client can list, as wire JSON."""
    return {
        "tools": [t.model_dump(mode="json", by_alias=True) for t in (await client.list_tools()).tools],
        "prompts": [p.model_dump(mode="json", by_alias=True) for p in (await client.list_prompts()).prompts],
        "resources": [r.model_dump(mode="json", by_alias=True) for r in (await client.list_resources()).resources],
        "templates": [
            t.model_dump(mode="json", by_alias=True)
            for t in (await client.list_resource_templates()).resource_templates
        ],
    }


def test_tools_prompts_and_resources_are_listed_under_their_own_names_and_schemas() -> None:
    direct = run(Client(StdioServerParameters(command=UPSTREAM[0], args=UPSTREAM[1:])), listings)
    proxied = run(over_stdio("--", *UPSTREAM), listings)
    assert proxied == direct
    assert {t["name"] for t in proxied["tools"]} >= {"echo", "lookup_person", "inspect_args"}
    assert next(t for t in proxied["tools"] if t["name"] == "lookup_person")["outputSchema"]["required"]


def test_results_are_masked_and_arguments_only_when_asked() -> None:
    async def body(client: Client) -> dict[str, Any]:
        person = await client.call_tool("lookup_person", {"name": "Ana"})
        seen = await client.call_tool("inspect_args", {"text": f"mail {EMAIL}"})
        prompt = await client.get_prompt("contact_prompt", {"person": "alice@example.org"})
        note = await client.read_resource("note://contact")
        templated = await client.read_resource("note://people/Zoe")
        return {"person": person, "seen": seen, "prompt": prompt, "note": note, "templated": templated}

    out = run(over_stdio("--", *UPSTREAM), body)
    assert out["person"].structured_content == {
        "name": "Ana",
        "email": "[EMAIL]",
        "phone": "[PHONE]",
        "note": "SSN [SSN] of Ana",
    }
    assert json.loads(out["person"].content[0].text) == out["person"].structured_content
    assert out["seen"].structured_content["has_at"] is True  # arguments went up as they were
    # The prompt argument went up unmasked, and came back masked in the rendered message.
    assert out["prompt"].messages[0].content.text == "Write to [EMAIL] at [EMAIL], SSN [SSN]."
    assert out["note"].contents[0].text == "Call Ana at [EMAIL] or [PHONE]."
    assert str(out["note"].contents[0].uri) == "note://contact"
    assert out["templated"].contents[0].text == "Zoe can be reached at [EMAIL]."

    masked = run(
        over_stdio("--mask-arguments", "--", *UPSTREAM),
        lambda c: c.call_tool("inspect_args", {"text": f"mail {EMAIL}"}),
    )
    assert masked.structured_content == {"length": len("mail [EMAIL]"), "has_at": False, "has_digits": False}


def test_rehydrate_puts_the_values_back_into_later_arguments() -> None:
    async def body(client: Client) -> dict[str, Any]:
        person = await client.call_tool("lookup_person", {"name": "Ana"})
        token = person.structured_content["email"]
        seen = await client.call_tool("inspect_args", {"text": f"write to {token}"})
        echoed = await client.call_tool("echo", {"text": f"again {token}, and {EMAIL}"})
        foreign = await client.call_tool("inspect_args", {"text": "[EMAIL_1#aaaaaa]"})
        prompt = await client.get_prompt("contact_prompt", {"person": token})
        return {"person": person, "token": token, "seen": seen, "echoed": echoed, "foreign": foreign, "prompt": prompt}

    out = run(over_stdio("--rehydrate", "--", *UPSTREAM), body)
    token = out["token"]
    assert TOKEN.fullmatch(token)
    assert token.startswith("[EMAIL_1#")
    assert "ana.silva" not in json.dumps(out["person"].model_dump(mode="json"))
    # The upstream received the value, not the token (it counts the characters and the '@').
    assert out["seen"].structured_content == {
        "length": len("write to ana.silva@example.com"),
        "has_at": True,
        "has_digits": False,
    }
    # Same value, same token within the scope; a new value gets the next number.
    assert out["echoed"].content[0].text == f"again {token}, and {token.replace('EMAIL_1', 'EMAIL_2')}"
    # A token of another scope is not resolved.
    assert out["foreign"].structured_content["has_at"] is False
    assert out["prompt"].messages[0].content.text.startswith(f"Write to {token} at ")


@pytest.mark.parametrize("other", ["--mask-arguments", "--block", "--transport=http"])
def test_rehydrate_works_alone(other: str) -> None:
    done = run_proxy("--rehydrate", other, "--", *UPSTREAM)
    assert done.returncode == 2
    assert "--rehydrate works alone" in done.stderr


def test_block_turns_pii_into_a_tool_error_without_values() -> None:
    async def body(client: Client) -> Any:
        blocked = await client.call_tool("echo", {"text": f"mail {EMAIL}"})
        clean = await client.call_tool("echo", {"text": "nothing here"})
        with pytest.raises(MCPError) as refused:
            await client.read_resource("note://contact")
        return blocked, clean, refused.value

    blocked, clean, refused = run(over_stdio("--block", "--", *UPSTREAM), body)
    assert blocked.is_error
    # The echo tool's text and its structuredContent both hold the value.
    assert blocked.content[0].text == "PII detected in tool result (2 in all): email=2"
    assert clean.content[0].text == "nothing here"
    assert "resource content" in refused.error.message
    assert "ana.silva" not in refused.error.message


def test_upstream_errors_keep_their_code_and_lose_their_text() -> None:
    async def body(client: Client) -> MCPError:
        with pytest.raises(MCPError) as exc_info:
            await client.read_resource(f"note://{EMAIL}/x")
        return exc_info.value

    error = run(over_stdio("--", *UPSTREAM), body)
    # As mcp-pii's own errors: the code stays, the text (which may quote the request) is a fixed one.
    assert EMAIL not in error.error.message
    assert error.error.code == -32602


def test_http_serving_in_front_of_an_http_upstream(upstream_http: str) -> None:
    with running_server("--transport", "http", "--upstream", upstream_http, command="proxy") as proxy:

        async def body() -> Any:
            async with Client(streamable_http_client(proxy.url)) as client:
                return await client.call_tool("lookup_person", {"name": "Ana"})

        result = anyio.run(body)
    assert result.structured_content["email"] == "[EMAIL]"
    assert "ana.silva" not in proxy.stderr


def test_sse_upstream_and_headers(tmp_path: Path) -> None:
    # mcp-pii itself as an SSE upstream that wants a bearer token: the proxy must send the header.
    with running_server(
        "--transport", "sse", "--auth-token", "t0ken", env={"MCP_PII_DEFAULT_STRATEGY": "label"}
    ) as upstream:
        args = ("--upstream", upstream.url, "--header", "Authorization: Bearer t0ken")
        result = run(over_stdio(*args), lambda c: c.call_tool("mask_pii", {"text": "x"}))
        assert result.structured_content == {"text": "x", "counts": {}}
        # Results of mcp-pii's own detect tool hold the values when asked: the proxy masks them.
        found = run(over_stdio(*args), lambda c: c.call_tool("detect_pii", {"text": EMAIL, "include_values": True}))
        assert found.structured_content["detections"][0]["value"] == "[EMAIL]"
        without = run_proxy("--upstream", upstream.url)
    assert without.returncode != 0
    assert "cannot connect to the upstream sse" in without.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give the upstream either as a command after '--' or as --upstream URL"),
        (["--upstream", "ftp://x", "--", "cat"], "not both"),
        (["--upstream", "file:///etc/passwd"], "--upstream must be an http:// or https:// URL"),
        (["--header", "no-colon", "--upstream", "http://127.0.0.1:9/mcp"], "--header must look like 'Name: value'"),
        (["--", "/nonexistent/server"], "cannot connect to the upstream command '/nonexistent/server'"),
    ],
)
def test_bad_upstreams_are_one_line_errors(args: list[str], message: str) -> None:
    done = run_proxy(*args)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr
