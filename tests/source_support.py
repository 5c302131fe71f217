"""Reading our own source as syntax trees, for the tests that check the code's shape."""
from __future__ import annotations

import ast

# CPython 3.11 keeps the AST constructor's recursion counter in per-interpreter state, not per
# thread (python/cpython#106905): while a portal server thread of the same xdist worker formats a
# traceback (3.11's carets parse the failing line), an ast.parse here can end in a spurious
# "AST constructor recursion depth mismatch". The counter is reset at the start of every parse,
# so parsing again is a true answer, not a masked failure.
_MISMATCH = "AST constructor recursion depth mismatch"
_ATTEMPTS = 5


def parse_python(source: str, filename: str = "<unknown>") -> ast.Module:
    """ast.parse, immune to the cross-thread counter race above."""
    for _ in range(_ATTEMPTS - 1):
        try:
            return ast.parse(source, filename=filename)
        except SystemError as error:
            if _MISMATCH not in str(error):
                raise
    return ast.parse(source, filename=filename)
