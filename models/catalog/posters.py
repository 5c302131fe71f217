"""Poster frames: one JPEG still per video, taken from the file with PyAV (issue 14, item 4).

A catalog card with a picture tells videos apart at a glance. The frame is taken a little
into the video (10 % of it, at most 10 s in), where the opening black frames are over. A
file that yields no frame simply has no poster: the card shows a placeholder instead, so a
poster never decides whether an upload succeeds.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av

from models.catalog.media import DEFAULT_MAX_PIXELS, MediaError, media_file, opened_video

POSTER_WIDTH = 320
_log = logging.getLogger(__name__)


def _poster_second(duration_seconds: float) -> float:
    return min(10.0, max(0.0, duration_seconds * 0.1))


def _frame_at(path: Path, second: float, max_pixels: int) -> av.VideoFrame | None:
    with opened_video(path, max_pixels) as (container, stream):
        if second > 0 and stream.time_base:
            container.seek(int(second / stream.time_base), stream=stream, backward=True, any_frame=False)
        chosen = None
        for frame in container.decode(stream):
            chosen = frame
            if frame.time is None or frame.time >= second:
                break
        return chosen


def _jpeg(frame: av.VideoFrame) -> bytes:
    width = min(POSTER_WIDTH, frame.width) // 2 * 2
    height = max(2, round(frame.height * width / frame.width) // 2 * 2)
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuvj420p"
    encoder.time_base = Fraction(1, 25)
    still = frame.reformat(width=width, height=height, format="yuvj420p")
    still.pts = 0
    packets = list(encoder.encode(still)) + list(encoder.encode(None))
    return b"".join(bytes(packet) for packet in packets)


def write_poster(media_root: Path, video_relative_path: str, duration_seconds: float,
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> str | None:
    """Extract the poster of a stored video; returns its path relative to the media root, or None.

    The decoder refuses pictures far over `max_pixels` (the upload's limit) wherever they are in
    the file (models/catalog/media.py `opened_video`).
    """
    source = media_file(media_root, video_relative_path)
    relative = poster_path_of(video_relative_path)
    target = media_root / relative
    try:
        frame = _frame_at(source, _poster_second(duration_seconds), max_pixels)
        if frame is None:
            return None
        data = _jpeg(frame)
    except (av.FFmpegError, ValueError, OSError) as exc:  # MediaError is a ValueError
        _log.warning("no poster for %s: %s", video_relative_path, exc)
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return relative


def poster_path_of(media_relative_path: str) -> str:
    """Where the poster of a stored file lives (`write_poster` writes it there)."""
    return f"posters/{Path(media_relative_path).stem}.jpg"


def ad_poster(media_root: Path, media_relative_path: str) -> str | None:
    """The poster of an ad, taken at upload (models/catalog/service.py create_ad); None when
    there is none (the file yielded no frame, or the ad predates posters): the list shows a
    placeholder. Never decodes here: the list page must not do an upload's work."""
    relative = poster_path_of(media_relative_path)
    return relative if (media_root / relative).is_file() else None


def remove_media(media_root: Path, relative_path: str | None) -> None:
    """Delete a stored file (poster or media) if it exists; a path outside the media root is ignored."""
    if not relative_path:
        return
    try:
        media_file(media_root, relative_path).unlink(missing_ok=True)
    except MediaError:
        pass
