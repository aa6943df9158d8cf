#!/usr/bin/python3
"""PyTorch eager reference for bench/encoder_bench: the same bert-base-sized forward pass in Python.

  encoder_ref.py [batch=32] [iterations=3] [layers=12]
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

B = int(sys.argv[1]) if len(sys.argv) > 1 else 32
iters = int(sys.argv[2]) if len(sys.argv) > 2 else 3
L = int(sys.argv[3]) if len(sys.argv) > 3 else 12
torch.set_num_threads(os.cpu_count())
torch.manual_seed(0)
T, H, NH, I, V = 128, 768, 12, 3072, 30522


class Bert(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.word = torch.nn.Embedding(V, H)
        self.pos = torch.nn.Embedding(512, H)
        self.typ = torch.nn.Embedding(2, H)
        self.ln = torch.nn.LayerNorm(H, eps=1e-12)
        self.layers = torch.nn.ModuleList()
        for _ in range(L):
            m = torch.nn.Module()
            m.q, m.k, m.v, m.o = (torch.nn.Linear(H, H) for _ in range(4))
            m.ln1, m.ln2 = torch.nn.LayerNorm(H, eps=1e-12), torch.nn.LayerNorm(H, eps=1e-12)
            m.i, m.out = torch.nn.Linear(H, I), torch.nn.Linear(I, H)
            self.layers.append(m)

    def forward(self, ids, mask):
        b, t = ids.shape
        x = self.ln(self.word(ids) + self.pos.weight[:t][None] + self.typ.weight[0])
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        d = H // NH
        for m in self.layers:
            q, k, v = (f(x).view(b, t, NH, d).transpose(1, 2) for f in (m.q, m.k, m.v))
            a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + bias, -1)
            x = m.ln1(m.o((a @ v).transpose(1, 2).reshape(b, t, H)) + x)
            x = m.ln2(m.out(F.gelu(m.i(x))) + x)
        return x


model = Bert().eval()
ids = torch.randint(1, V, (B, T))
mask = torch.ones(B, T, dtype=torch.long)
with torch.inference_mode():
    model(ids, mask)
    t0 = time.time()
    for _ in range(iters):
        model(ids, mask)
    secs = time.time() - t0
flop = L * (2.0 * T * (4.0 * H * H + 2.0 * H * I) + 4.0 * T * T * H)
print(json.dumps({"impl": "PyTorch eager (python3-torch)", "batch": B, "layers": L, "seq_per_s": B * iters / secs,
                  "gflops": B * iters / secs * flop / 1e9, "threads": torch.get_num_threads()}))
