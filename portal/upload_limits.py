"""The limits of an upload, from the settings: MAX_UPLOAD_MB, MAX_VIDEO_SECONDS or
MAX_AD_SECONDS, MAX_VIDEO_PIXELS (models/media.py MediaLimits says why each exists)."""

from __future__ import annotations

from models.media import MediaLimits
from portal.settings import settings


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
