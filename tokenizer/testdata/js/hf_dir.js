// Loads a Hugging Face tokenizer folder (tokenizer.json + tokenizer_config.json) with the
// JavaScript port of transformers' tokenizers and answers requests, one JSON per line:
//   {"encode": text}                                  -> {"ids": [...], "decoded": text}
//   {"messages": [...], "add_generation_prompt": b}   -> {"text": rendered, "ids": [...]}
// or {"error": message} when the tokenizer throws (a chat template's raise_exception).
//   node hf_dir.js DIR requests.jsonl out.jsonl
"use strict";
const fs = require("fs");
const path = require("path");
const { TokenizerLoader } = require("@lenml/tokenizers");

const [dir, inPath, outPath] = process.argv.slice(2);
if (!dir || !inPath || !outPath) {
  console.error("usage: node hf_dir.js DIR requests.jsonl out.jsonl");
  process.exit(2);
}
const read = (name) => JSON.parse(fs.readFileSync(path.join(dir, name), "utf8"));
const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON: read("tokenizer.json"), tokenizerConfig: read("tokenizer_config.json") });

function answer(req) {
  try {
    if (req.encode !== undefined) {
      const ids = tok.encode(req.encode, { add_special_tokens: false });
      // (decode throws on an empty list)
      return { ids, decoded: ids.length ? tok.decode(ids, { skip_special_tokens: false }) : "" };
    }
    const opts = { add_generation_prompt: !!req.add_generation_prompt };
    const text = tok.apply_chat_template(req.messages, { ...opts, tokenize: false });
    return { text, ids: tok.encode(text, { add_special_tokens: false }) };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
}
const lines = fs.readFileSync(inPath, "utf8").split("\n").filter((l) => l !== "");
fs.writeFileSync(outPath, lines.map((l) => JSON.stringify(answer(JSON.parse(l)))).join("\n") + "\n");
