# The AMoPO step of cmd/bench in PyTorch CPU eager: the peer cpu_peer.sh measures the
# engine against, in the same run on the same CPU.
#
#   /usr/bin/python3 cmd/bench/torch_cpu_step.py --preset small --vocab 8192 --threads 2
#
# A Qwen2-architecture model in plain torch (the Debian python3-torch 1.13 has no
# transformers): tied embeddings, RMSNorm, rotary positions, grouped-query attention with
# q/k/v biases, SwiGLU MLP; the preset shapes of trainer.PresetConfig. The step is
# cmd/bench's: B pairs x 2K sequences of seq tokens (second half the response),
# log-softmax over the full vocabulary, length-normalised response log-probabilities, the
# AMoPO loss with Gaussian-sampled dimension weights, backward, AdamW. Prints one JSON line.
import argparse, json, time
import torch, torch.nn as nn, torch.nn.functional as F

PRESETS = {  # trainer.PresetConfig
    "tiny": dict(hidden=128, inter=352, layers=4, heads=4, kv_heads=2, head_dim=32),
    "small": dict(hidden=256, inter=704, layers=6, heads=8, kv_heads=2, head_dim=32),
}

p = argparse.ArgumentParser()
p.add_argument("--preset", default="tiny", choices=PRESETS)
p.add_argument("--vocab", type=int, default=259)
p.add_argument("--pairs", type=int, default=2)
p.add_argument("--k", type=int, default=4)
p.add_argument("--seq", type=int, default=64)
p.add_argument("--steps", type=int, default=5)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--beta", type=float, default=0.8)
p.add_argument("--gamma", type=float, default=2.0)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
c = PRESETS[a.preset]


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.w, self.eps = nn.Parameter(torch.ones(d)), eps

    def forward(self, x):
        return self.w * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


def rotate(x, cos, sin):  # transformers' rotate_half convention
    h = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., h:], x[..., :h]), -1) * sin


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        d, hd = c["hidden"], c["head_dim"]
        self.n1, self.n2 = RMSNorm(d), RMSNorm(d)
        self.q = nn.Linear(d, c["heads"] * hd)
        self.k = nn.Linear(d, c["kv_heads"] * hd)
        self.v = nn.Linear(d, c["kv_heads"] * hd)
        self.o = nn.Linear(c["heads"] * hd, d, bias=False)
        self.gate = nn.Linear(d, c["inter"], bias=False)
        self.up = nn.Linear(d, c["inter"], bias=False)
        self.down = nn.Linear(c["inter"], d, bias=False)

    def forward(self, x, cos, sin, mask):
        n, s, _ = x.shape
        hd, h, kvh = c["head_dim"], c["heads"], c["kv_heads"]
        y = self.n1(x)
        q = rotate(self.q(y).view(n, s, h, hd).transpose(1, 2), cos, sin)
        k = rotate(self.k(y).view(n, s, kvh, hd).transpose(1, 2), cos, sin)
        v = self.v(y).view(n, s, kvh, hd).transpose(1, 2)
        k, v = k.repeat_interleave(h // kvh, 1), v.repeat_interleave(h // kvh, 1)
        att = (q @ k.transpose(-1, -2)) / hd ** 0.5
        att = torch.softmax(att.masked_fill(~mask, float("-inf")), -1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(n, s, h * hd))
        y = self.n2(x)
        return x + self.down(F.silu(self.gate(y)) * self.up(y))


class Qwen2(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(a.vocab, c["hidden"])
        self.layers = nn.ModuleList(Layer() for _ in range(c["layers"]))
        self.norm = RMSNorm(c["hidden"])

    def forward(self, ids):
        s = ids.shape[1]
        hd = c["head_dim"]
        inv = 1.0 / (1e4 ** (torch.arange(0, hd, 2).float() / hd))
        f = torch.outer(torch.arange(s).float(), inv)
        f = torch.cat((f, f), -1)
        cos, sin = f.cos(), f.sin()
        mask = torch.ones(s, s, dtype=torch.bool).tril()
        x = self.emb(ids)
        for l in self.layers:
            x = l(x, cos, sin, mask)
        return self.norm(x) @ self.emb.weight.t()  # tied embeddings


model = Qwen2().train()
n_params = sum(t.numel() for t in model.parameters())
opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
N = a.pairs * a.k * 2
ids = torch.randint(0, a.vocab, (N, a.seq))
resp = torch.zeros(N, a.seq)
resp[:, a.seq // 2:] = 1


def step(i):  # the loss of cmd/bench/torch_step.py (the GPU peer), on the CPU
    logits = model(ids)
    logp = torch.log_softmax(logits[:, :-1], -1)
    tok = logp.gather(2, ids[:, 1:, None]).squeeze(-1)
    m = resp[:, 1:]
    mean = ((tok * m).sum(-1) / m.sum(-1)).view(a.pairs, a.k, 2)
    probs = tok.detach().exp().view(a.pairs, a.k, 2, -1)
    mm = m.view(a.pairs, a.k, 2, -1)
    cnt = mm.sum((-1, -2))
    mu = (probs * mm).sum((-1, -2)) / cnt
    var = (((probs - mu[..., None, None]) ** 2) * mm).sum((-1, -2)) / cnt
    g = torch.Generator().manual_seed(i)
    alpha = torch.softmax(mu + var.sqrt() * torch.randn(mu.shape, generator=g), -1)
    l = -F.logsigmoid(a.beta * (mean[..., 0] - mean[..., 1]) - a.gamma)
    loss = (alpha * l).sum(-1).mean()
    loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss.item()


t0 = time.time(); step(0); first = time.time() - t0
times = []
for i in range(1, a.steps + 1):
    t0 = time.time(); step(i); times.append(time.time() - t0)
times.sort()
med = times[len(times) // 2]
tokens = N * a.seq
# trainer.TrainingFLOPsPerToken: 6N + 12*L*S*(heads*head_dim)
flops_per_token = 6 * n_params + 12 * c["layers"] * a.seq * c["heads"] * c["head_dim"]
print(json.dumps({"impl": "pytorch-cpu-eager", "torch": torch.__version__, "threads": torch.get_num_threads(),
                  "preset": a.preset, "params": n_params, "first_step_s": round(first, 3), "step_s": round(med, 4),
                  "tokens_per_s": round(tokens / med), "step_gflops": round(tokens / med * flops_per_token / 1e9, 2)}))
