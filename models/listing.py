"""What every paged, searchable list shares: page arithmetic and the LIKE pattern of a search."""

from __future__ import annotations

from typing import Any


def page_count(total: int, per_page: int) -> int:
    """Pages of `per_page` rows that `total` rows fill: at least 1, so an empty list has a page to show."""
    return max(1, -(-total // per_page))


class Paged:
    """Page arithmetic for a list result holding `total`, `page` and `per_page`."""

    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    def page_meta(self) -> dict[str, Any]:
        """The paging fields of a JSON list answer."""
        return {"page": self.page, "per_page": self.per_page, "pages": self.pages, "total": self.total}


def contains_pattern(text: str) -> str:
    """A LIKE pattern (escape character `\\`) matching values that contain `text` literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
