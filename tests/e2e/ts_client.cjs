// The TypeScript SDK's client against mcp-pii over Streamable HTTP: call detect_pii with each unit
// of offsets and slice the text the way JavaScript does (UTF-16 code units; bytes for utf8); then
// mask_pii with each text_content.
// Usage: node ts_client.cjs URL TEXT   (NODE_PATH names the node_modules holding the SDK)
// Prints one JSON object: {unit: [sliced values]}; exits 1 on any failure.
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { StreamableHTTPClientTransport } = require("@modelcontextprotocol/sdk/client/streamableHttp.js");

async function main() {
  const [url, text] = process.argv.slice(2);
  const client = new Client({ name: "ts-offsets", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  const out = {};
  for (const unit of ["codepoint", "utf16", "utf8"]) {
    const result = await client.callTool({ name: "detect_pii", arguments: { text, offsets: unit } });
    if (result.isError) throw new Error(`detect_pii failed: ${JSON.stringify(result.content)}`);
    const bytes = Buffer.from(text, "utf8");
    out[unit] = result.structuredContent.detections.map((d) =>
      unit === "utf8" ? bytes.subarray(d.start, d.end).toString("utf8") : text.slice(d.start, d.end),
    );
  }
  // mask_pii both ways: the TypeScript SDK checks structuredContent against the output schema.
  out.mask = {};
  for (const shown of ["masked", "counts"]) {
    const result = await client.callTool({ name: "mask_pii", arguments: { text, text_content: shown } });
    if (result.isError) throw new Error(`mask_pii failed: ${JSON.stringify(result.content)}`);
    out.mask[shown] = { content: result.content[0].text, structured: result.structuredContent };
  }
  await client.close();
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
