#!/usr/bin/python3
"""Writes a tiny random BERT in every format users bring, with reference outputs.

  make_bert_fixture.py OUTDIR

The model (2 layers, hidden 32, 4 heads) is run by a plain torch.nn.functional implementation
below, independent of the C++ code. Files:
  hf/            config.json, vocab.txt (40 entries), pytorch_model.bin (torch.save, keys "bert.*" plus
                 an unused "cls.*" head, one tensor a strided view into a larger storage)
  hf_st/         config.json, vocab.txt, model.safetensors (written here: JSON header + raw data)
  hf_fp16/       pytorch_model.bin in float16
  ner4el.ckpt    Lightning-like checkpoint: state_dict with bert_model.* / mention_encoder.* /
                 entity_encoder.* sharing storage, hyper_parameters holding an object of a class
                 only this script knows
  ner_classifier.pt   mention_encoder.* + linear.* (18 classes)
  reference.json inputs and outputs: hidden states, mention/entity vectors, scores, NER logits
"""
import json
import math
import os
import struct
import sys
from collections import OrderedDict

import torch
import torch.nn.functional as F

out = sys.argv[1]
torch.manual_seed(0)
V, H, L, NH, I, P = 42, 32, 2, 4, 64, 64  # 40 vocabulary entries + [E], [\E]
cfg = {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": 40, "hidden_size": H,
       "num_hidden_layers": L, "num_attention_heads": NH, "intermediate_size": I, "max_position_embeddings": P,
       "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
       "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02, "pad_token_id": 0}


def rnd(*shape, scale=0.2):
    return torch.randn(*shape) * scale


sd = OrderedDict()
sd["embeddings.word_embeddings.weight"] = rnd(V, H)
sd["embeddings.position_embeddings.weight"] = rnd(P, H)
sd["embeddings.token_type_embeddings.weight"] = rnd(2, H)
sd["embeddings.LayerNorm.weight"] = 1 + rnd(H, scale=0.05)
sd["embeddings.LayerNorm.bias"] = rnd(H, scale=0.05)
for l in range(L):
    p = f"encoder.layer.{l}."
    for n in ("query", "key", "value"):
        sd[p + f"attention.self.{n}.weight"] = rnd(H, H)
        sd[p + f"attention.self.{n}.bias"] = rnd(H, scale=0.05)
    sd[p + "attention.output.dense.weight"] = rnd(H, H)
    sd[p + "attention.output.dense.bias"] = rnd(H, scale=0.05)
    sd[p + "attention.output.LayerNorm.weight"] = 1 + rnd(H, scale=0.05)
    sd[p + "attention.output.LayerNorm.bias"] = rnd(H, scale=0.05)
    sd[p + "intermediate.dense.weight"] = rnd(I, H)
    sd[p + "intermediate.dense.bias"] = rnd(I, scale=0.05)
    sd[p + "output.dense.weight"] = rnd(H, I)
    sd[p + "output.dense.bias"] = rnd(H, scale=0.05)
    sd[p + "output.LayerNorm.weight"] = 1 + rnd(H, scale=0.05)
    sd[p + "output.LayerNorm.bias"] = rnd(H, scale=0.05)
sd["pooler.dense.weight"] = rnd(H, H)
sd["pooler.dense.bias"] = rnd(H, scale=0.05)


def bert(w, ids, mask):
    """Reference BERT forward (eval mode): returns the last hidden states [B, T, H]."""
    B, T = ids.shape
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:T][None] \
        + w["embeddings.token_type_embeddings.weight"][0][None, None]
    x = F.layer_norm(x, (H,), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], 1e-12)
    bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    d = H // NH
    for l in range(L):
        p = f"encoder.layer.{l}."
        lin = lambda t, n: F.linear(t, w[p + n + ".weight"], w[p + n + ".bias"])
        q, k, v = (lin(x, f"attention.self.{n}").view(B, T, NH, d).transpose(1, 2) for n in ("query", "key", "value"))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + bias, dim=-1)
        ctx = (att @ v).transpose(1, 2).reshape(B, T, H)
        x = F.layer_norm(lin(ctx, "attention.output.dense") + x, (H,), w[p + "attention.output.LayerNorm.weight"],
                         w[p + "attention.output.LayerNorm.bias"], 1e-12)
        h = F.gelu(lin(x, "intermediate.dense"))
        x = F.layer_norm(lin(h, "output.dense") + x, (H,), w[p + "output.LayerNorm.weight"],
                         w[p + "output.LayerNorm.bias"], 1e-12)
    return x


vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(35)]
for d in ("hf", "hf_st", "hf_fp16"):
    os.makedirs(f"{out}/{d}", exist_ok=True)
    with open(f"{out}/{d}/config.json", "w") as f:
        json.dump(cfg, f, indent=2)
    with open(f"{out}/{d}/vocab.txt", "w") as f:
        f.write("\n".join(vocab) + "\n")

# Hugging Face folder: the pre-trained vocabulary (40 rows); "bert." prefix as BertForPreTraining has.
hf = OrderedDict(("bert." + k, v.clone()) for k, v in sd.items())
hf["bert.embeddings.word_embeddings.weight"] = sd["embeddings.word_embeddings.weight"][:40].clone()
# One tensor as a strided view into a larger storage: offset and strides must be honoured.
big = torch.zeros(H * 3, H)
big[H:2 * H] = sd["encoder.layer.0.attention.self.key.weight"]
hf["bert.encoder.layer.0.attention.self.key.weight"] = big[H:2 * H]
hf["cls.predictions.bias"] = torch.zeros(40)
torch.save(hf, f"{out}/hf/pytorch_model.bin")
torch.save(OrderedDict((k, v.half()) for k, v in hf.items()), f"{out}/hf_fp16/pytorch_model.bin")

# safetensors, written by hand: u64 header size, JSON header, little-endian data.
header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
for k, v in sd.items():
    t = v if k != "embeddings.word_embeddings.weight" else v[:40]
    b = t.contiguous().numpy().tobytes()
    header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
hb = json.dumps(header).encode()
hb += b" " * ((8 - len(hb) % 8) % 8)
with open(f"{out}/hf_st/model.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(hb)) + hb + b"".join(blobs))


class Conf:  # an object the C++ side cannot know; pickled by reference to __main__.Conf
    def __init__(self):
        self.lr, self.encoder = 1e-5, "bert-large-uncased"


state = OrderedDict()
for prefix in ("bert_model.", "mention_encoder.", "entity_encoder."):
    for k, v in sd.items():
        state[prefix + k] = v  # the same tensors: one storage each, referenced three times
torch.save({"epoch": 3, "global_step": 120, "pytorch-lightning_version": "1.3.8", "state_dict": state,
            "hyper_parameters": {"conf": Conf()}, "optimizer_states": [], "lr_schedulers": []},
           f"{out}/ner4el.ckpt")

lin_w, lin_b = rnd(18, H), rnd(18, scale=0.05)
ner = OrderedDict(("mention_encoder." + k, v) for k, v in sd.items())
ner["linear.weight"], ner["linear.bias"] = lin_w, lin_b
torch.save(ner, f"{out}/ner_classifier.pt")

# Reference outputs.
ids = torch.tensor([[2, 5, 6, 40, 7, 41, 8, 3, 0, 0, 0, 0],   # mention: [E]=40 at 3, mention piece at 4
                    [2, 9, 10, 11, 40, 12, 13, 41, 14, 15, 16, 3]])
ent = torch.tensor([[2, 17, 3, 18, 19, 20, 3, 0, 0, 0, 0, 0],
                    [2, 21, 3, 22, 23, 24, 25, 26, 27, 28, 29, 30],
                    [2, 31, 32, 3, 0, 0, 0, 0, 0, 0, 0, 0]])
mpos = [4, 5]
with torch.no_grad():
    hm = bert(sd, ids, ids != 0)
    he = bert(sd, ent, ent != 0)
    mv = torch.stack([hm[i, p] for i, p in enumerate(mpos)])
    ev = he[:, 0]
    scores = F.cosine_similarity(mv[:, None, :], ev[None, :, :], dim=-1, eps=1e-6)
    logits = F.linear(mv, lin_w, lin_b)
    # fp16 weights, converted to fp32 as the C++ loader does
    sd16 = {k: v.half().float() for k, v in sd.items()}
    ev16 = bert(sd16, ent, ent != 0)[:, 0]
ref = {"mention_ids": ids.tolist(), "mention_positions": mpos, "entity_ids": ent.tolist(),
       "mention_hidden": hm.tolist(), "mention_vectors": mv.tolist(), "entity_vectors": ev.tolist(),
       "scores": scores.tolist(), "ner_logits": logits.tolist(), "entity_vectors_fp16": ev16.tolist()}
with open(f"{out}/reference.json", "w") as f:
    json.dump(ref, f)
