"""The catalog's question: a page of published videos matching title words (the `/videos` page
and `GET /api/v1/videos`)."""

from __future__ import annotations

from pydantic import Field

from models.catalog.service import MAX_PAGE_SIZE, PAGE_SIZE
from portal.queries.base import LenientQuery
from portal.queries.fields import Page, Switch, rows_per_page


class VideosQuery(LenientQuery):
    page: Page = 1
    per_page: int = rows_per_page(PAGE_SIZE, MAX_PAGE_SIZE, "Videos per page (the page shows a fixed number).")
    q: str = Field("", description="Words of the title to look for.")


class PublishedForm(LenientQuery):
    """A seller's publish / hide button on "My videos"."""

    published: Switch


class AdActiveForm(LenientQuery):
    """An admin's activate / switch off button on the ads page."""

    active: Switch
