"""bench/content_table.py at a tiny size (no timing judged): its data, sign-in, token and phases
work, and it prints one row per phase."""

from __future__ import annotations

import sys

from bench import content_table


def test_the_content_table_benchmark_runs_at_a_tiny_size(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["content_table", "--videos", "7", "--other-sellers", "1", "--days", "3",
                                      "--requests", "3", "--warmup", "1"])
    content_table.main()
    out = capsys.readouterr().out
    for phase in ("api cached", "page cached", "fragment cached", "api last page by rpm", "api uncached"):
        assert f"\n{phase} " in out, out
    assert "seller with 7 videos" in out
