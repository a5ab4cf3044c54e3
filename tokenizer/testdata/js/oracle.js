// Encodes each line of a JSON-lines corpus (one JSON string per line) with a
// JavaScript tokenizer and writes one JSON array of ids per line.
//   node oracle.js qwen|gpt2 corpus.jsonl out.jsonl
"use strict";
const fs = require("fs");
const { encoder } = require("./encoders");

const [mode, inPath, outPath] = process.argv.slice(2);
if (!mode || !inPath || !outPath) {
  console.error("usage: node oracle.js qwen|gpt2 corpus.jsonl out.jsonl");
  process.exit(2);
}
const encode = encoder(mode);
const lines = fs.readFileSync(inPath, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
fs.writeFileSync(outPath, lines.map((l) => JSON.stringify(encode(l))).join("\n") + "\n");
