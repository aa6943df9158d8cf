"""A bert-base-sized BERT in PyTorch eager, for the reference benchmarks (random weights)."""
import math

import torch
import torch.nn.functional as F

H, NH, I, V = 768, 12, 3072, 30522


class Bert(torch.nn.Module):
    def __init__(self, layers=12):
        super().__init__()
        self.word = torch.nn.Embedding(V, H)
        self.pos = torch.nn.Embedding(512, H)
        self.typ = torch.nn.Embedding(2, H)
        self.ln = torch.nn.LayerNorm(H, eps=1e-12)
        self.layers = torch.nn.ModuleList()
        for _ in range(layers):
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
