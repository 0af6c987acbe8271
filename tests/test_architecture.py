"""The codebase's own rules, checked: layers, lint and format, and docs that keep up with the code.

- Layers (import-linter, contracts in pyproject.toml): components -> jobs -> (forecasting |
  governance | sample_data) -> data_access, and nothing below components imports Streamlit
  (the login wrapper excepted). A deliberate back-import into a copy of the tree breaks it.
- Ruff lint and format are clean.
- docs/data-model.md names every table, docs/decisions-workflow.md every permission.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from data_access.schema import metadata
from governance.roles import PERMISSIONS

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("components", "jobs", "forecasting", "governance", "sample_data", "data_access")
BIN = Path(sys.executable).parent


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "lint-imports"), "--no-logo", "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(tree), "PATH": str(BIN)},
    )


def copy_tree(target: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def test_the_layer_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    "module, back_import",
    [
        ("forecasting/probe.py", "from governance import audit"),  # siblings stay independent
        ("data_access/probe.py", "import jobs.pipeline"),  # data_access imports nothing above it
        ("governance/probe.py", "import components.export"),
        ("sample_data/probe.py", "import streamlit"),  # no Streamlit below components
    ],
)
def test_a_back_import_breaks_the_contracts(tmp_path, module, back_import):
    tree = copy_tree(tmp_path)
    (tree / module).write_text(f'"""A deliberate back-import."""\n\n{back_import}\n')
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout
    assert "1 broken" in result.stdout


def test_ruff_lint_is_clean():
    result = subprocess.run([str(BIN / "ruff"), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = subprocess.run(
        [str(BIN / "ruff"), "format", "--check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def documented(path: str) -> set[str]:
    """The `backticked` names of a doc."""
    return set(re.findall(r"`([a-z_][a-z0-9_.]*)`", (ROOT / path).read_text()))


def test_every_table_is_in_the_data_model_doc():
    missing = sorted(set(metadata.tables) - documented("docs/data-model.md"))
    assert not missing, f"docs/data-model.md does not describe: {', '.join(missing)}"


def test_every_permission_is_in_the_workflow_doc():
    missing = sorted(set(PERMISSIONS) - documented("docs/decisions-workflow.md"))
    assert not missing, f"docs/decisions-workflow.md does not name the permissions: {', '.join(missing)}"
