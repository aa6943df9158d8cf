#!/usr/bin/env bash
# The most real training run this machine allows (not a test): the shared benchmark mentions
# linked to the WordNet KB, a small randomly initialised BERT (no pre-trained weights here) over the
# demo character-level vocabulary. Train: MSNBC + AQUAINT; dev: ACE2004. Prints the dev accuracy
# curve and the count-prior baseline on the same dev set.
#   bench/train_wordnet.sh [epochs=8] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${NER4EL_BUILD:-build}
EPOCHS=${1:-8}
W=${2:-/tmp/ner4el-train-wordnet}
D=../shared/data/ner4el
mkdir -p "$W"
[ -f out/wordnet-kb/data.mdb ] || "$BIN/ner4el" kb build --from wordnet -o out/wordnet-kb
cat "$D/msnbc_test.jsonl" "$D/aquaint_test.jsonl" > "$W/train.jsonl"
if [ ! -f "$W/small-bert/pytorch_model.bin" ]; then
  /usr/bin/python3 - "$W/small-bert" tests/data/demo-vocab.txt <<'PY'
import json, os, shutil, sys, torch
from collections import OrderedDict
out, vocab = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
shutil.copy(vocab, f"{out}/vocab.txt")
V = sum(1 for _ in open(vocab))
H, L, I = 128, 2, 512
cfg = {"model_type": "bert", "vocab_size": V, "hidden_size": H, "num_hidden_layers": L, "num_attention_heads": 4,
       "intermediate_size": I, "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
       "hidden_act": "gelu", "initializer_range": 0.02}
json.dump(cfg, open(f"{out}/config.json", "w"), indent=2)
torch.manual_seed(2)
sd = OrderedDict()
n = lambda *s: torch.randn(*s) * 0.02
sd["embeddings.word_embeddings.weight"] = n(V, H)
sd["embeddings.position_embeddings.weight"] = n(512, H)
sd["embeddings.token_type_embeddings.weight"] = n(2, H)
sd["embeddings.LayerNorm.weight"], sd["embeddings.LayerNorm.bias"] = torch.ones(H), torch.zeros(H)
for l in range(L):
    p = f"encoder.layer.{l}."
    for m, (o, i) in {"attention.self.query": (H, H), "attention.self.key": (H, H), "attention.self.value": (H, H),
                      "attention.output.dense": (H, H), "intermediate.dense": (I, H), "output.dense": (H, I)}.items():
        sd[p + m + ".weight"], sd[p + m + ".bias"] = n(o, i), torch.zeros(o)
    for m in ("attention.output.LayerNorm", "output.LayerNorm"):
        sd[p + m + ".weight"], sd[p + m + ".bias"] = torch.ones(H), torch.zeros(H)
sd["pooler.dense.weight"], sd["pooler.dense.bias"] = n(H, H), torch.zeros(H)
torch.save(sd, f"{out}/pytorch_model.bin")
PY
fi
echo "== count prior on the dev set (ACE2004)"
"$BIN/ner4el" evaluate --kb out/wordnet-kb --model prior --data "$D/ace2004_test.jsonl" --aquaint-k 40 | head -3
echo "== training"
"$BIN/ner4el" train --config conf/ner4el.yaml --set encoder="$W/small-bert" --set kb=out/wordnet-kb \
  --set train_data="$W/train.jsonl" --set dev_data="$D/ace2004_test.jsonl" --set output_dir="$W/run" \
  --set lr=1e-4 --set accumulation=16 --set epochs="$EPOCHS" --set patience=100
echo "== dev accuracy per epoch"
cat "$W/run/metrics.jsonl"
