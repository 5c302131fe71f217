"""Request and response models of the catalog endpoints (portal/api/catalog.py) and the ad
shape the player endpoints share (portal/api/playback_schemas.py).

The listing's query is portal/queries/catalog.py (the page reads it too). The upload forms are
still checked by their hand-written rules (models/catalog/service.py), which the browser pages
share; these models describe the same inputs, and portal/api/rule_checks.py makes a schema
refusal answer with the rule's own code.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from spectree.model_adapter.pydantic_adapter import BaseFile
from werkzeug.datastructures import FileStorage

from models.catalog.service import DESCRIPTION_MAX, TITLE_MAX
from models.figures.skip_rates import RECENT_SKIP_DAYS
from portal.api.paging_schemas import PageFields
from portal.api.skip_schemas import SkipFigures

FLAG_DESCRIPTION = "true/false (also 1/0, yes/no, on/off, any case)"


class VideoSeller(BaseModel):
    id: int
    display_name: str


class CatalogVideo(BaseModel):
    id: int
    title: str
    description: str
    seller: VideoSeller
    duration_seconds: int
    content_type: str
    size_bytes: int
    published: bool
    created_at: str = Field(description="ISO 8601, UTC.")
    ad_slots: list[int] = Field(description="Where the ad breaks are, in seconds into the video.")
    media_url: str


class CatalogVideoList(PageFields):
    items: list[CatalogVideo]
    total: int
    max_per_page: int


class _UploadForm(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=TITLE_MAX)
    file: BaseFile = Field(description="The media file (WebM or MP4).")

    @model_validator(mode="before")
    @classmethod
    def _files_by_name(cls, data: Any) -> Any:
        """Uploaded files as their names: spectree puts the failing input into the JSON of a
        validation error before our hook sees it, and a `FileStorage` made that a 500. The
        views read the file from `request.files`, never from the validated form."""
        if isinstance(data, dict):
            return {key: f"<file {value.filename!r}>" if isinstance(value, FileStorage) else value
                    for key, value in data.items()}
        return data


class VideoUploadForm(_UploadForm):
    description: str = Field("", max_length=DESCRIPTION_MAX)
    published: str = Field("true", description=f"Publish at once: {FLAG_DESCRIPTION}.")


class AdUploadForm(_UploadForm):
    active: str = Field("true", description=f"Show the ad to viewers at once: {FLAG_DESCRIPTION}.")


class PlayerAd(BaseModel):
    id: int
    title: str
    duration_seconds: int
    content_type: str
    media_url: str
    skippable_after_seconds: int | None = Field(
        description="When the player may offer Skip (seconds into the ad); null for a short ad.")


class CatalogAd(PlayerAd):
    is_active: bool
    impressions: int


class ListedAd(CatalogAd):
    skips: SkipFigures = Field(description=f"Skips over the last {RECENT_SKIP_DAYS} business days, up to today.")


class CatalogAdList(BaseModel):
    items: list[ListedAd]
