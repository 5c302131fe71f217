"""The paging fields of every paged JSON list answer (models/listing.py `page_count`), one
definition for the schemas that carry them; each adds its own count of rows (`total` or
`total_rows`, as its endpoint has always named it)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PageFields(BaseModel):
    page: int = Field(description="The page shown, from 1.")
    per_page: int = Field(description="Rows per page.")
    pages: int = Field(description="Pages in all; at least 1, so an empty list has a page.")
