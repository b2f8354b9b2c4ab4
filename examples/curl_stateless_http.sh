#!/usr/bin/env bash
# A raw JSON-RPC exchange with the stateless Streamable HTTP endpoint, using nothing but curl.
# Start the server first:   mcp-pii serve --transport http --stateless --json-response --port 8765
set -euo pipefail
URL=${URL:-http://127.0.0.1:8765/mcp}
H=(-H "Content-Type: application/json" -H "Accept: application/json, text/event-stream"
   -H "MCP-Protocol-Version: 2025-11-25")

echo "== initialize"
curl -sS "${H[@]}" "$URL" -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{
  "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
echo

echo "== tools/list"
curl -sS "${H[@]}" "$URL" -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
echo

echo "== tools/call mask_pii"
curl -sS "${H[@]}" "$URL" -d '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{
  "name":"mask_pii","arguments":{"text":"Mail jane@example.com, SSN 123-45-6789","strategy":"partial"}}}'
echo

echo "== health"
curl -sS "${URL%/mcp}/healthz"
echo
