"""Shared set-up of the reference tests: ner4el's outputs against the implementations the release
used (Hugging Face transformers, tokenizers, pytorch-lightning), on the real pretrained model.

Run by ctest (tests/CMakeLists.txt) with the checkout's .venv; the paths come from the environment
that ctest sets: NER4EL_TOOL (the built binary), NER4EL_MODEL_DIR (models/minilm-l6),
NER4EL_SHARED_DATA (the shared data sets).
"""
import json
import os
import subprocess

import pytest

TOOL = os.environ.get("NER4EL_TOOL", "build/ner4el")
MODEL_DIR = os.environ.get("NER4EL_MODEL_DIR", "models/minilm-l6")
SHARED = os.environ.get("NER4EL_SHARED_DATA", "../shared/data")
DATA_SETS = ["msnbc_test.jsonl", "aquaint_test.jsonl", "ace2004_test.jsonl"]


def run_tool(*args, input_bytes=None, check=True):
    """Runs ner4el; returns CompletedProcess with bytes stdout/stderr."""
    proc = subprocess.run([TOOL, *args], input=input_bytes, capture_output=True, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"ner4el {' '.join(args)} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    return proc


EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "mentions.jsonl")


def have_shared():
    return all(os.path.isfile(os.path.join(SHARED, "ner4el", n)) for n in DATA_SETS)


def shared_mentions(fallback=False):
    """The 1,640 mentions of the shared test sets. Without ../shared/data: skip the test, or with
    fallback, use the repository's examples/mentions.jsonl instead."""
    paths = [os.path.join(SHARED, "ner4el", n) for n in DATA_SETS]
    if not have_shared():
        if not fallback:
            pytest.skip(f"{SHARED}/ner4el not found")
        paths = [EXAMPLES]
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            rows.extend(json.loads(line) for line in f if line.strip())
    return rows


@pytest.fixture(scope="session")
def model_dir():
    if not os.path.isfile(os.path.join(MODEL_DIR, "model.safetensors")):
        pytest.fail(f"{MODEL_DIR} has no model.safetensors: run scripts/install-deps")
    return MODEL_DIR


@pytest.fixture(scope="session")
def hf_tokenizer(model_dir):
    """The release's tokenizer: BertTokenizer grown by [E] and [\\E] (ids 30522, 30523)."""
    from transformers import BertTokenizer
    tok = BertTokenizer.from_pretrained(model_dir)
    tok.add_special_tokens({"additional_special_tokens": ["[E]", "[\\E]"]})
    assert tok.convert_tokens_to_ids(["[E]", "[\\E]"]) == [30522, 30523]
    return tok
