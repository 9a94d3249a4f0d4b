"""The README's Python examples run as written (in a scratch directory beside a copy of data/)."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from tests.conftest import PROJECT_ROOT


def python_blocks() -> list[str]:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_opens_with_the_two_commands():
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    bash = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    assert "pip install torch==2.13.0" in bash[0] and "synthcat demo" in bash[0]
    assert "pytest" in bash[1]
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    install_and_demo = bash[0].strip().split(" && ", 2)[2]  # after creating and activating the venv
    test_step = bash[1].strip().split(" && ", 1)[1]
    assert install_and_demo in ci and test_step in ci


@pytest.mark.slow
def test_readme_python_examples_run(tmp_path, monkeypatch):
    blocks = python_blocks()
    assert blocks, "the README has no Python example"
    shutil.copytree(PROJECT_ROOT / "data", tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "__readme__"})  # noqa: S102
    assert os.path.exists(tmp_path / "my-catalog" / "catalog.duckdb")
