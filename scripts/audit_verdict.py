"""The verdict of scripts/audit.sh from pip-audit's JSON report (`pip-audit -f json`).

pip-audit's own summary says "No known vulnerabilities found" even when it skipped every
package because its vulnerability service could not be reached — which is what happens on a
machine that reaches package indexes only. This helper says what was and was not audited:

* packages with known advisories (not explained in scripts/audit-ignore.txt) → exit 1;
* every package skipped, or no report at all because the service was unreachable → it says
  plainly that nothing could be audited and exits 0 (CI here must not fail for that, nor
  claim a clean result);
* otherwise the count audited and skipped, the skipped ones by name, exit 0;
* a report it cannot read, or pip-audit failing for another reason → exit 2.

Usage: audit_verdict.py REPORT.json [PIP_AUDIT_STDERR_FILE]
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

# What pip-audit and requests print when the vulnerability service cannot be reached at all.
UNREACHABLE = re.compile(r"Could not connect|network may be blocking|ConnectionError|Max retries exceeded|"
                         r"NameResolutionError|ProxyError|ConnectTimeout|ServiceError|not redirecting properly")


@dataclass
class Verdict:
    lines: list[str] = field(default_factory=list)
    exit_code: int = 0


def verdict(report_text: str, stderr_text: str = "") -> Verdict:
    """What to print and the exit code, from pip-audit's JSON output (empty when it failed)."""
    if not report_text.strip():
        if UNREACHABLE.search(stderr_text):
            last = next((line for line in reversed(stderr_text.strip().splitlines()) if line.strip()), "")
            return Verdict([
                "NOTHING WAS AUDITED: the vulnerability service could not be reached "
                f"({last.strip()[:200]}).",
                "No statement about known vulnerabilities can be made from this run.",
            ])
        return Verdict(["pip-audit failed without a report:", *stderr_text.strip().splitlines()[-5:]], 2)
    try:
        dependencies = json.loads(report_text)["dependencies"]
        audited = [d for d in dependencies if "skip_reason" not in d]
        skipped = [d for d in dependencies if "skip_reason" in d]
        vulnerable = [d for d in audited if d["vulns"]]
    except (ValueError, KeyError, TypeError) as exc:
        return Verdict([f"cannot read pip-audit's report: {type(exc).__name__}: {exc}"], 2)
    total = len(dependencies)
    lines = [f"Audited {len(audited)} of {total} packages; skipped {len(skipped)}."]
    if skipped:
        lines.append("Not audited: " + ", ".join(d["name"] for d in skipped))
        reasons = sorted({d["skip_reason"].split(":")[0] for d in skipped})
        lines.append("Why: " + "; ".join(reasons))
    if vulnerable:
        for dep in vulnerable:
            for vuln in dep["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions") or []) or "none yet"
                lines.append(f"VULNERABLE: {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
        lines.append(f"Known vulnerabilities in {len(vulnerable)} package(s): upgrade them, or explain each ID "
                     "in scripts/audit-ignore.txt.")
        return Verdict(lines, 1)
    if not audited:
        lines.append("NOTHING WAS AUDITED: every package was skipped (the vulnerability service could not be "
                     "reached?). No statement about known vulnerabilities can be made from this run.")
    elif skipped:
        lines.append(f"No known vulnerabilities in the {len(audited)} audited packages; "
                     f"the {len(skipped)} skipped ones are unchecked.")
    else:
        lines.append(f"No known vulnerabilities in any of the {total} packages.")
    return Verdict(lines)


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    report = Path(argv[1]).read_text()
    stderr = Path(argv[2]).read_text() if len(argv) == 3 else ""
    result = verdict(report, stderr)
    for line in result.lines:
        print(line)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
