"""`pip install .` (not editable) gives a synthcat that runs its demo from an empty directory.

The wheel is built from this tree and installed into a fresh virtual environment that sees the test
environment's packages (torch, DuckDB, ... are not downloaded again) but not this source tree; the
demo then runs in an empty directory, so it can only find its data in the installed package.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, **kwargs)


def test_installed_wheel_runs_the_demo_from_an_empty_directory(tmp_path):
    wheels = tmp_path / "wheels"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                  str(wheels), str(PROJECT_ROOT)])
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = wheels.glob("synthcat-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"cli.py", "synthcat_demo.py", "synthcat_demo_data/demo_pairs.jsonl", "catalog/web/templates/base.html",
            "catalog/web/static/style.css", "catalog/web/static/app.js",
            "synthcat_demo_data/demo_customers.csv", "synthcat_demo_data/demo_pairs_duplicates.json"} <= names

    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    python = venv / "bin" / "python"
    # the test environment's packages as plain path entries: their own .pth files (among them the
    # editable install's finder, which would map `catalog` back to this tree) are not processed
    own_site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    (venv / own_site / "test-environment.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    # without PYTHONPATH: a source tree on it (with its synthcat.egg-info) would count as installed
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SYNTHCAT_CATALOG")}
    installed = _run([str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], env=clean_env)
    assert installed.returncode == 0, installed.stderr[-2000:]

    empty = tmp_path / "empty"
    empty.mkdir()
    env = dict(clean_env, HF_HUB_OFFLINE="1")
    where = _run([str(python), "-c", "import catalog, synthcat_demo; print(catalog.__file__)"], cwd=empty, env=env)
    assert where.returncode == 0 and str(venv) in where.stdout, (where.stdout, where.stderr[-2000:])
    demo = _run([str(venv / "bin" / "synthcat"), "demo"], cwd=empty, env=env, timeout=1200)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert (empty / "synthcat-demo" / "catalog.duckdb").is_file()
    assert (empty / "synthcat-demo-customers-report.html").is_file()
    assert "planted copies" in demo.stdout
