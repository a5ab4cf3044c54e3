# The same AMoPO training step as cmd/bench, in PyTorch + transformers: the peer the
# engine's XLA backend is measured against on the GPU machine (see gpu.sh).
#
#   python3 cmd/bench/torch_step.py --pairs 1 --k 4 --seq 512 --steps 10
#
# Qwen2.5-0.5B shape, random init, bf16 weights and compute, eager attention off by
# default (sdpa, as transformers uses), AdamW. Prints tokens/s, MFU and peak memory.
import argparse, json, math, time
import torch, torch.nn.functional as F
from transformers import Qwen2Config, Qwen2ForCausalLM

p = argparse.ArgumentParser()
p.add_argument("--pairs", type=int, default=1)
p.add_argument("--k", type=int, default=4)
p.add_argument("--seq", type=int, default=512)
p.add_argument("--steps", type=int, default=10)
p.add_argument("--peak-tflops", type=float, default=989.0, help="dense bf16 peak of the card (H100/H200 SXM: 989)")
p.add_argument("--beta", type=float, default=0.8)
p.add_argument("--gamma", type=float, default=2.0)
a = p.parse_args()

torch.manual_seed(0)
cfg = Qwen2Config(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                  num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768,
                  rope_theta=1e6, tie_word_embeddings=True, rms_norm_eps=1e-6)
model = Qwen2ForCausalLM(cfg).to("cuda", torch.bfloat16).train()
n_params = sum(t.numel() for t in model.parameters())
opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
N = a.pairs * a.k * 2
ids = torch.randint(0, cfg.vocab_size, (N, a.seq), device="cuda")
resp = torch.zeros(N, a.seq, device="cuda"); resp[:, a.seq // 2:] = 1

def step(i):
    logits = model(input_ids=ids).logits                       # [N, S, V] bf16
    logp = torch.log_softmax(logits[:, :-1].float(), -1)       # TRL's get_batch_logps: the full-vocabulary copy
    tok = logp.gather(2, ids[:, 1:, None]).squeeze(-1)
    m = resp[:, 1:]
    mean = (tok * m).sum(-1) / m.sum(-1)                        # length-normalised
    mean = mean.view(a.pairs, a.k, 2)
    probs = tok.detach().exp().view(a.pairs, a.k, 2, -1)
    mm = m.view(a.pairs, a.k, 2, -1)
    cnt = mm.sum((-1, -2))
    mu = (probs * mm).sum((-1, -2)) / cnt
    var = (((probs - mu[..., None, None]) ** 2) * mm).sum((-1, -2)) / cnt
    g = torch.Generator(device="cuda").manual_seed(i)
    raw = mu + var.sqrt() * torch.randn(mu.shape, device="cuda", generator=g)
    alpha = torch.softmax(raw, -1)
    l = -F.logsigmoid(a.beta * (mean[..., 0] - mean[..., 1]) - a.gamma)
    loss = (alpha * l).sum(-1).mean()
    loss.backward()
    opt.step(); opt.zero_grad(set_to_none=True)
    return loss.item()

torch.cuda.reset_peak_memory_stats()
t0 = time.time(); step(0); torch.cuda.synchronize(); first = time.time() - t0
times = []
for i in range(1, a.steps + 1):
    t0 = time.time(); step(i); torch.cuda.synchronize(); times.append(time.time() - t0)
times.sort(); med = times[len(times) // 2]
tokens = N * a.seq
flops_per_token = 6 * n_params + 12 * cfg.num_hidden_layers * a.seq * cfg.hidden_size
tps = tokens / med
print(json.dumps({"impl": "pytorch-eager", "torch": torch.__version__, "device": torch.cuda.get_device_name(),
                  "params": n_params, "first_step_s": round(first, 3), "step_s": round(med, 4),
                  "tokens_per_s": round(tps), "mfu": round(tps * flops_per_token / (a.peak_tflops * 1e12), 4),
                  "peak_allocated_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
                  "peak_reserved_gib": round(torch.cuda.max_memory_reserved() / 2**30, 2)}))
