"""The limits of an upload, from the settings: MAX_UPLOAD_MB, MAX_VIDEO_SECONDS or
MAX_AD_SECONDS, MAX_VIDEO_PIXELS (models/catalog/media.py MediaLimits says why each exists).

The upload forms describe these same limits (issue 21, item 9: the forms said "up to 1 MB",
the request-body limit, while uploads took 512 MB), so what a page promises is what the
check enforces."""

from __future__ import annotations

import math
from typing import Literal

from flask import Flask

from models.catalog.media import MediaLimits
from models.formatting import duration
from portal.settings import settings

UploadKind = Literal["video", "ad"]


def _limits(max_seconds: int) -> MediaLimits:
    config = settings()
    return MediaLimits(max_bytes=config.max_upload_mb * 1024 * 1024, max_seconds=max_seconds,
                       max_pixels=config.max_video_pixels)


def video_limits() -> MediaLimits:
    """What a video upload (page or API) may be."""
    return _limits(settings().max_video_seconds)


def ad_limits() -> MediaLimits:
    """What an ad upload (page or API) may be."""
    return _limits(settings().max_ad_seconds)


def _widescreen(pixels: int) -> str:
    """The 16:9 picture of about `pixels` pixels, '3840 × 2160' for 8,294,400: people know
    resolutions, not pixel counts."""
    height = math.isqrt(pixels * 9 // 16)
    return f"{height * 16 // 9} × {height}"


def limits_text(kind: UploadKind) -> str:
    """'at most 512 MB, 4 h long, pictures up to 8,294,400 pixels (3840 × 2160)' for the form of `kind`."""
    limits = ad_limits() if kind == "ad" else video_limits()
    megabytes = (limits.max_bytes or 0) // (1024 * 1024)
    return (f"at most {megabytes:,} MB and {duration(limits.max_seconds)} long, pictures up to "
            f"{limits.max_pixels:,} pixels ({_widescreen(limits.max_pixels)})")


def init_app(app: Flask) -> None:
    app.add_template_global(limits_text, "upload_limits_text")
