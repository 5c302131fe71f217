"""The one parser of paging arguments (`page`, `per_page`) for every page and endpoint.

A value that is not a whole number (ASCII digits) in range is refused with a `PagingError` (400 with a
message, through the one error handler of portal/errors.py), never replaced silently by 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from models.errors import DomainError
from portal.numbers import MAX_ID, MAX_PAGE, whole_number


class PagingError(DomainError):
    """`page` or `per_page` in the query string is not usable."""

    kind = "bad_request"
    code = "invalid_paging"


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int


def _whole(args: Mapping[str, str], name: str, default: int, highest: int | None) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    # ASCII digits only, and no page beyond MAX_PAGE: a huge page makes an OFFSET the
    # database refuses (a 500), and str.isdigit() lets '²' and '٣' through (portal/numbers.py).
    value = whole_number(raw, minimum=0, maximum=MAX_ID)
    if value is None or value < 1:
        raise PagingError(f"{name} must be a whole number of at least 1, got {raw!r}.")
    top = MAX_PAGE if highest is None else min(highest, MAX_PAGE)
    if value > top:
        raise PagingError(f"{name} must be at most {top}, got {value}.")
    return value


def page_arg(args: Mapping[str, str]) -> int:
    """`?page=` alone, for pages whose page size is fixed."""
    return _whole(args, "page", 1, None)


def paging_args(args: Mapping[str, str], *, per_page: int, max_per_page: int) -> Paging:
    """`?page=` (from 1) and `?per_page=` (1 … `max_per_page`, default `per_page`) of a request."""
    return Paging(_whole(args, "page", 1, None), _whole(args, "per_page", per_page, max_per_page))
