// Measures encode throughput of the JavaScript tokenizer on a JSON-lines
// corpus, the same text the Go benchmark encodes.
//   node bench.js qwen|gpt2 corpus.jsonl [seconds]
"use strict";
const fs = require("fs");
const { encoder } = require("./encoders");

const [mode, inPath, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg || 5);
const encode = encoder(mode);
const lines = fs.readFileSync(inPath, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l, "utf8"), 0);

for (const l of lines) encode(l); // warm up the JIT and the word cache, as the Go benchmark does
let passes = 0;
const start = process.hrtime.bigint();
let elapsed = 0;
while (elapsed < seconds) {
  for (const l of lines) encode(l);
  passes++;
  elapsed = Number(process.hrtime.bigint() - start) / 1e9;
}
const mbps = (bytes * passes) / 1e6 / elapsed;
console.log(`${mode}: ${lines.length} lines, ${bytes} bytes, ${passes} passes in ${elapsed.toFixed(2)} s: ${mbps.toFixed(2)} MB/s`);
