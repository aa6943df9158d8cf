#!/usr/bin/python3
"""(a) The release's way of linking, in PyTorch eager: for every mention, BERT over the mention and
over all K = 40 candidate descriptions (41 sequences of 128 tokens), cosine, argmax.

  link_ref.py [mentions=2]     prints one JSON line
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref_bert import V, Bert  # noqa: E402

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(os.cpu_count())
torch.manual_seed(0)
K, W = 40, 128
model = Bert().eval()
with torch.no_grad():  # the release evaluates under no_grad
    t0 = time.time()
    for _ in range(n):
        mention = torch.randint(1, V, (1, W))
        cands = torch.randint(1, V, (K, W))
        mv = model(mention, torch.ones_like(mention))[:, 10]
        ev = model(cands, torch.ones_like(cands))[:, 0]
        int(F.cosine_similarity(mv, ev, dim=-1, eps=1e-6).argmax())
    secs = time.time() - t0
print(json.dumps({"impl": "release way, PyTorch eager", "mentions_per_s": n / secs, "threads": torch.get_num_threads()}))
