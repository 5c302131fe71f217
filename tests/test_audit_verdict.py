"""scripts/audit.sh's verdict (issue 18, item 17): it says what was and was not audited, fails
on a known advisory, and never claims "no known vulnerabilities" when nothing was audited.

The reports in tests/data/pip_audit are pip-audit 2.10.1's JSON format (`-f json`), written by
its own formatter (pip_audit._format.json) for requirements.txt: every package skipped (what this
machine gets: the vulnerability service is unreachable), all audited and clean, one package with
a published advisory (requests 2.31.0, GHSA-9wx4-h78v-vm56), two skipped. The last test runs the
real script, with the real pip-audit, behind a proxy that refuses connections."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from settings import PROJECT_ROOT
from tests.support import free_port

REPORTS = Path(__file__).parent / "data" / "pip_audit"
HELPER = PROJECT_ROOT / "scripts" / "audit_verdict.py"


def run(*args: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, str(HELPER), *args], capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout + done.stderr


def test_every_package_skipped_is_said_plainly_and_not_called_clean():
    code, out = run(str(REPORTS / "all_skipped.json"))
    assert code == 0, out
    assert "Audited 0 of 33 packages; skipped 33." in out
    assert "NOTHING WAS AUDITED" in out and "flask" in out and "gunicorn" in out
    assert "No known vulnerabilities" not in out


def test_a_clean_report_says_how_many_were_audited():
    code, out = run(str(REPORTS / "clean.json"))
    assert code == 0, out
    assert "Audited 33 of 33 packages; skipped 0." in out and "No known vulnerabilities in any of the 33" in out


def test_a_known_advisory_fails_and_names_the_package_and_the_fix():
    code, out = run(str(REPORTS / "vulnerable.json"))
    assert code == 1, out
    assert "VULNERABLE: requests 2.31.0: GHSA-9wx4-h78v-vm56 (fixed in 2.32.0)" in out
    assert "No known vulnerabilities" not in out


def test_a_partly_skipped_audit_names_what_was_not_checked():
    code, out = run(str(REPORTS / "partly_skipped.json"))
    assert code == 0, out
    assert "Audited 31 of 33 packages; skipped 2." in out and "Not audited: av, tzdata" in out
    assert "No known vulnerabilities in the 31 audited packages; the 2 skipped ones are unchecked." in out


def test_no_report_because_the_service_was_unreachable_or_because_pip_audit_broke(tmp_path):
    empty = tmp_path / "report.json"
    empty.write_text("")
    unreachable = tmp_path / "unreachable.txt"
    unreachable.write_text("ERROR:pip_audit._cli:Could not connect to PyPI's vulnerability feed\n"
                           "Tip: your network may be blocking this service. Try another service with `-s SERVICE`\n")
    code, out = run(str(empty), str(unreachable))
    assert code == 0 and "NOTHING WAS AUDITED" in out, out
    broken = tmp_path / "broken.txt"
    broken.write_text("ERROR:pip_audit._cli:invalid requirements input: requirements.txt\n")
    code, out = run(str(empty), str(broken))
    assert code == 2 and "invalid requirements input" in out, out
    garbage = tmp_path / "garbage.json"
    garbage.write_text('{"not": "a report"}')
    assert run(str(garbage))[0] == 2


@pytest.mark.skipif(not (PROJECT_ROOT / ".venv" / "bin" / "pip-audit").exists(), reason="needs the dev set-up")
def test_the_audit_script_with_the_service_unreachable_exits_0_and_claims_nothing():
    closed = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "HTTPS_PROXY": closed, "https_proxy": closed, "HTTP_PROXY": closed, "http_proxy": closed,
           "PIP_AUDIT_CACHE_DIR": "/nonexistent"}
    done = subprocess.run(["scripts/audit.sh"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "NOTHING WAS AUDITED" in out
    assert "No known vulnerabilities" not in out
