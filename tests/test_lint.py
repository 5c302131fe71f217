"""The tree passes the project's linter (ruff, configured in pyproject.toml), so a lint finding
fails the suite where it was made instead of waiting for someone to run the linter by hand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_tree_passes_ruff():
    ruff = Path(sys.executable).with_name("ruff")  # installed beside pytest (requirements-dev.txt)
    result = subprocess.run([str(ruff), "check", "--no-cache", "--output-format", "concise", str(ROOT)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
