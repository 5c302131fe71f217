"""Passwords are hashed at argon2-cffi's standard cost (RFC 9106's low-memory profile); only the
test suite lowers it for its own accounts (tests/conftest.py), so the real cost is checked in a
process of its own."""

from __future__ import annotations

import subprocess
import sys

from settings import PROJECT_ROOT

_HASH = ("from argon2 import extract_parameters; from models.accounts import passwords; "
         "p = extract_parameters(passwords.hash_password('a-long-password-1')); "
         "print(p.time_cost, p.memory_cost, p.parallelism, passwords.verify_password(passwords.hash_password('x' * 8), 'x' * 8))")


def test_a_process_hashes_at_the_standard_cost_and_the_suite_at_the_minimal_one() -> None:
    standard = subprocess.run([sys.executable, "-c", _HASH], cwd=PROJECT_ROOT, capture_output=True, text=True,
                              check=True).stdout.split()
    assert standard == ["3", "65536", "4", "True"]
    minimal = subprocess.run([sys.executable, "-c", "from models.accounts import passwords; "
                              "passwords.hash_at_minimal_cost(); " + _HASH.replace("from models.accounts import passwords; ", "")],
                             cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert minimal == ["1", "8", "1", "True"]
