#!/usr/bin/env bash
# A raw JSON-RPC exchange with the Streamable HTTP endpoint, using nothing but curl (and grep).
# It works against every HTTP mode of the server: with sessions or --stateless, answers as SSE
# (the default) or --json-response. It exits non-zero as soon as a call fails.
#
#   make run                                   # or: mcp-pii serve --transport http --port 8765
#   examples/curl_http.sh                      # URL=http://127.0.0.1:8765/mcp by default
#   MCP_PII_AUTH_TOKEN=change-me mcp-pii serve --transport http    # with a bearer token:
#   examples/curl_http.sh --token change-me    # or TOKEN=change-me, or --token-file FILE
set -euo pipefail
URL=${URL:-http://127.0.0.1:8765/mcp}
TOKEN=${TOKEN:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --url) URL=$2; shift 2 ;;
    --token) TOKEN=$2; shift 2 ;;
    --token-file) TOKEN=$(tr -d '\r\n' <"$2"); shift 2 ;;
    *) echo "usage: $0 [--url URL] [--token TOKEN | --token-file FILE]" >&2; exit 2 ;;
  esac
done
H=(-H "Content-Type: application/json" -H "Accept: application/json, text/event-stream"
   -H "MCP-Protocol-Version: 2025-11-25")
[ -n "$TOKEN" ] && H+=(-H "Authorization: Bearer $TOKEN")
HEADERS=$(mktemp)
trap 'rm -f "$HEADERS"' EXIT

# call NAME BODY: POST one JSON-RPC message, print the answer's JSON, fail on an HTTP or JSON-RPC error.
call() {
  local name=$1 body=$2 status answer
  echo "== $name"
  status=$(curl -sS -o /dev/stdout -w '\n%{http_code}' -D "$HEADERS" "${H[@]}" "$URL" -d "$body") || {
    echo "$name: cannot reach $URL" >&2; exit 1; }
  answer=$(printf '%s' "$status" | sed '$d' | grep -E '^(data: )?[{]' | sed 's/^data: //')
  status=$(printf '%s' "$status" | tail -n 1)
  echo "$answer"
  if [ "${status:0:1}" != 2 ]; then echo "$name: HTTP $status" >&2; exit 1; fi
  if printf '%s' "$answer" | grep -q -e '"error":{' -e '"isError":true'; then echo "$name: failed" >&2; exit 1; fi
}

call initialize '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{
  "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
SESSION=$(sed -n 's/^[Mm][Cc][Pp]-[Ss]ession-[Ii][Dd]: *\([^[:space:]]*\).*/\1/p' "$HEADERS")
if [ -n "$SESSION" ]; then   # a server with sessions: name it on every later request
  H+=(-H "Mcp-Session-Id: $SESSION")
  curl -sS -f -o /dev/null "${H[@]}" "$URL" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
fi

call tools/list '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'

call "tools/call mask_pii" '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{
  "name":"mask_pii","arguments":{"text":"Mail jane@example.com, SSN 123-45-6789","strategy":"partial"}}}'

call "tools/call scan_nested" '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{
  "name":"scan_nested","arguments":{"data":{"user":{"email":"jane@example.com"},"raw":"{\"ip\": \"10.1.2.3\"}"}}}}'

echo "== health"
curl -sS -f "${H[@]}" "${URL%/mcp}/healthz"
echo
if [ -n "$SESSION" ]; then curl -sS -f -o /dev/null -X DELETE "${H[@]}" "$URL"; fi
