"""The package scripts/install-python put into .venv (the README's set-up), and the README's Python examples
run exactly as printed with it."""
import os
import re
import subprocess

import pytest

from conftest import SOURCE, run_tool

VENV_PYTHON = os.environ.get("NER4EL_VENV_PYTHON", os.path.join(SOURCE, ".venv", "bin", "python"))
README = os.path.join(SOURCE, "README.md")


def installed_env():
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the installed package, not this build's copy
    return env


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A directory laid out as the README assumes after the demo: out/wordnet-kb."""
    d = tmp_path_factory.mktemp("readme")
    run_tool("kb", "build", "--from", "wordnet", "-o", str(d / "out" / "wordnet-kb"))
    return d


def run_installed(args, cwd):
    return subprocess.run([VENV_PYTHON, *args], capture_output=True, text=True, timeout=600, cwd=cwd, env=installed_env())


def test_pip_installed_the_package_into_the_venv(tmp_path):
    out = run_installed(["-c", "import ner4el, importlib.metadata as m; print(ner4el.__file__); print(ner4el.__version__); "
                         "print([e.value for e in m.entry_points(group='spacy_factories') if e.name == 'ner4el_linker'])"],
                        cwd=tmp_path)
    assert out.returncode == 0, "ner4el is not installed in .venv: run scripts/install-python\n" + out.stderr
    path, version, entry = out.stdout.splitlines()
    assert "site-packages" in path and path.startswith(os.path.dirname(os.path.dirname(VENV_PYTHON)))
    assert version == "0.1.0"
    assert entry == "['ner4el.spacy_linker:make_ner4el_linker']"
    for name in ("_core.pyi", "py.typed", "spacy_linker.py", "errors.py"):
        assert os.path.isfile(os.path.join(os.path.dirname(path), name)), name


def test_readme_one_liner_works_as_printed(workdir):
    text = open(README, encoding="utf-8").read()
    m = re.search(r"^    \$ \.venv/bin/python -c (\".*\")\n((?:    [^$\n].*\n)+)", text, re.M)
    assert m, "README has no '$ .venv/bin/python -c \"...\"' example followed by its output"
    code = m.group(1)[1:-1]
    expected = "".join(line[4:] + "\n" for line in m.group(2).splitlines())
    out = run_installed(["-c", code], cwd=workdir)
    assert out.returncode == 0, out.stderr
    assert out.stdout == expected


def test_readme_python_examples_run(workdir, tmp_path):
    text = open(README, encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2  # plain Python, and spaCy
    for i, block in enumerate(blocks):
        script = tmp_path / f"example{i}.py"
        script.write_text(block, encoding="utf-8")
        out = run_installed([str(script)], cwd=workdir)
        assert out.returncode == 0, f"README example {i + 1}:\n{block}\n{out.stderr}"
        assert "Paris (mythical being)" in out.stdout, f"README example {i + 1} printed:\n{out.stdout}"
