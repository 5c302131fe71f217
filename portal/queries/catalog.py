"""The catalog's questions: a page of published videos matching title words (the `/videos` page
and `GET /api/v1/videos`), the publish and activate buttons, the API's upload forms."""

from __future__ import annotations

from pydantic import Field

from models.catalog.service import MAX_PAGE_SIZE, PAGE_SIZE
from portal.queries.base import LenientQuery
from portal.queries.fields import Flag, Page, Switch, rows_per_page


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


class VideoUploadFields(LenientQuery):
    """`POST /api/v1/videos`' form fields besides the file. Title and description are checked by
    the catalog's own rules (models/catalog/service.py), which the pages share; absent is None."""

    title: str | None = None
    description: str | None = None
    published: Flag = True


class AdUploadFields(LenientQuery):
    """`POST /api/v1/ads`' form fields besides the file."""

    title: str | None = None
    active: Flag = True
