#!/usr/bin/python3
"""PyTorch eager reference for bench/encoder_bench: the same bert-base-sized forward pass in Python.

  encoder_ref.py [batch=32] [iterations=3] [layers=12]
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref_bert import H, I, V, Bert  # noqa: E402

B = int(sys.argv[1]) if len(sys.argv) > 1 else 32
iters = int(sys.argv[2]) if len(sys.argv) > 2 else 3
L = int(sys.argv[3]) if len(sys.argv) > 3 else 12
torch.set_num_threads(os.cpu_count())
torch.manual_seed(0)
T = 128

model = Bert(L).eval()
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
