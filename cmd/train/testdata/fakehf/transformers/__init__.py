# A stand-in for transformers for cmd/train/check_export.py's plumbing test: a byte
# tokenizer with the engine's special ids and chat format, and a "model" whose logits at
# position p point at the token the test's answers file says comes next (EOS after a
# finished answer), so the script must index its logits exactly as the real check would.
import json, os

__version__ = "fake"
PAD, BOS, EOS = 256, 257, 258


class _Tok:
    pad_token_id, bos_token_id, eos_token_id = PAD, BOS, EOS

    def apply_chat_template(self, messages, add_generation_prompt=False, tokenize=True):
        text = "<|bos|>" + "".join("Q: " + m["content"] + "\n" for m in messages)
        return text + ("A: " if add_generation_prompt else "")

    def __call__(self, text, add_special_tokens=True, return_tensors=None):
        ids = []
        if text.startswith("<|bos|>"):
            ids, text = [BOS], text[len("<|bos|>"):]
        ids += list(text.encode("utf-8"))
        return {"input_ids": ids}

    def decode(self, ids, skip_special_tokens=False):
        ids = ids.tolist() if hasattr(ids, "tolist") else ids
        return bytes(i for i in ids if i < 256).decode("utf-8", "replace")


class AutoTokenizer:
    @staticmethod
    def from_pretrained(path):
        return _Tok()


class _GenCfg:
    eos_token_id = EOS


class _Out:
    def __init__(self, logits):
        self.logits = logits


class _Model:
    def __init__(self, run_dir):
        import torch
        self.torch = torch
        self.generation_config = _GenCfg()
        self.answers = {}
        for name in os.listdir(run_dir):
            if name.startswith("answers-after-"):
                for line in open(os.path.join(run_dir, name), encoding="utf-8"):
                    row = json.loads(line)
                    self.answers[row["input"]] = list(row["answer"].encode("utf-8"))

    def eval(self):
        return self

    def _continuation(self, ids):
        text = bytes(ids[1:]).decode("utf-8")
        for inp, ans in self.answers.items():
            if text.startswith(inp):
                return ans[len(ids) - 1 - len(inp.encode("utf-8")):]
        raise KeyError(text)

    def __call__(self, ids):
        full = ids.data[0]
        prompt_len = next(n for n in range(1, len(full) + 1) if bytes(full[1:n]).decode("utf-8", "replace").endswith("\nA: "))
        logits = []
        for p in range(len(full)):
            nxt = full[p + 1] if p + 1 < len(full) else EOS
            if p < prompt_len - 1:
                nxt = 0
            if os.environ.get("FAKEHF_DISAGREE") and p == prompt_len - 1:
                nxt = (nxt + 1) % 256  # the model picks another first answer token
            row = [0.0] * 259
            row[nxt] = 1.0
            logits.append(row)
        return _Out(self.torch.tensor([logits]))

    def generate(self, ids, attention_mask=None, max_new_tokens=32, do_sample=False):
        full = ids.data[0]
        cont = self._continuation(full)[:max_new_tokens]
        if len(cont) < max_new_tokens:
            cont = cont + [EOS]
        return self.torch.tensor([full + cont])


class AutoModelForCausalLM:
    @staticmethod
    def from_pretrained(path, **kw):
        return _Model(os.path.dirname(os.path.abspath(path)))
