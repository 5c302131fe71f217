"""Media files under the media root: staging an upload, checking it is real, moving it in place.

An upload is copied to `incoming/` first, opened with PyAV (the container must be one a
browser plays, its pictures no larger than the limit, its video stream must decode, its
duration is measured from its packets and no longer than the limit), then moved to its final
name. The caller saves the database row inside `stored_media(...)`; if that
fails the file is removed again, so there is never a file without a row or a row without a
file. (A process killed between the move and the commit can leave an unreferenced file in
`videos/` or `ads/`: harmless, and never a row pointing at nothing.)
"""

from __future__ import annotations

import math
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av

from models.errors import DomainError

# PyAV demuxer name → (content type served to browsers, file extension kept on disk).
_CONTAINERS = {
    "matroska,webm": ("video/webm", ".webm"),
    "mov,mp4,m4a,3gp,3g2,mj2": ("video/mp4", ".mp4"),
    "ogg": ("video/ogg", ".ogv"),
}
# File name endings we accept; the container found in the file must agree with them.
ACCEPTED_EXTENSIONS = {".webm": "video/webm", ".mp4": "video/mp4", ".m4v": "video/mp4", ".ogv": "video/ogg"}
# Video codecs the HTML5 <video> element of current browsers decodes.
BROWSER_CODECS = {"vp8", "vp9", "av1", "h264", "theora"}
_COPY_CHUNK = 1024 * 1024
# The defaults of MAX_VIDEO_SECONDS, MAX_AD_SECONDS and MAX_VIDEO_PIXELS (settings/__init__.py).
DEFAULT_MAX_VIDEO_SECONDS = 4 * 3600
DEFAULT_MAX_AD_SECONDS = 300
DEFAULT_MAX_PIXELS = 3840 * 2160
# Packets a second of video may come in, all streams together: 120 frames, audio, subtitles.
_PACKETS_PER_SECOND = 240
# Room a decoder's picture cap leaves for padding on top of twice the pixels the header may have.
_PADDING_PIXELS = 64 * 64
# How far the duration a file declares may be from what its packets hold and still be believed:
# one frame or a rounding of the container's clock, never hours.
_DECLARED_SLACK_SECONDS = 2.0
_DECLARED_SLACK_SHARE = 0.02


class MediaError(DomainError, ValueError):
    """A file that cannot be used as a video; the message is safe to show to the uploader."""


@dataclass(frozen=True)
class MediaLimits:
    """What an upload may be (issue 18, item 2): every number a hostile file can choose is bounded.

    A 570-byte file declaring 10^8 seconds used to be taken at its word (333,333 ad-slot rows),
    and an 8192×8192 picture cost 216 MB to check. `max_seconds` bounds the duration (and so the
    ad slots, floor(L/300)); `max_pixels` is checked on the stream's codec parameters before any
    picture is decoded, and the decoder itself refuses larger pictures; `max_bytes` bounds the copy.
    """

    max_bytes: int | None = None
    max_seconds: int = DEFAULT_MAX_VIDEO_SECONDS
    max_pixels: int = DEFAULT_MAX_PIXELS


VIDEO_LIMITS = MediaLimits()
AD_LIMITS = MediaLimits(max_seconds=DEFAULT_MAX_AD_SECONDS)


@dataclass(frozen=True)
class ProbedMedia:
    content_type: str
    extension: str
    codec: str
    duration_seconds: int


@dataclass(frozen=True)
class StoredMedia:
    relative_path: str
    content_type: str
    size_bytes: int
    duration_seconds: int


def clock_text(seconds: float) -> str:
    """1:05:09 / 12:00 / 0:04: a duration as people read it in messages."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@contextmanager
def opened_video(path: Path, max_pixels: int) -> Iterator[tuple[av.container.InputContainer, av.VideoStream]]:
    """The file and its first video stream, every decoder capped near `max_pixels` a picture.

    The cap goes to the decoders `av.open` starts to fill in missing stream parameters and to
    the one that decodes pictures later: a picture far larger than the stream's header
    announced (a size change inside the stream) is refused by FFmpeg before its memory is
    taken. Decoders count the pixels of the padded picture they allocate (VP8 rounds the
    width up to a multiple of 32), so their cap leaves room for that: any picture the header
    check accepts decodes.
    """
    cap = {"max_pixels": str(2 * max_pixels + _PADDING_PIXELS)}
    with av.open(str(path), options=cap) as container:
        if not container.streams.video:
            raise MediaError("The file has no video stream.")
        stream = container.streams.video[0]
        stream.codec_context.options = cap
        yield container, stream


def _check_pixels(stream: av.VideoStream, max_pixels: int) -> None:
    """MediaError unless the stream's declared picture size is known and within `max_pixels`."""
    width, height = stream.codec_context.width, stream.codec_context.height
    if width <= 0 or height <= 0:
        raise MediaError("The video's picture size could not be read from the file.")
    if width * height > max_pixels:
        raise MediaError(f"The video's pictures are {width}×{height} pixels ({width * height:,}); "
                         f"at most {max_pixels:,} pixels a picture are accepted.")


def _packet_span(container: av.container.InputContainer, max_seconds: int) -> float | None:
    """Seconds from the earliest packet to the end of the latest, over every stream: what the
    file really holds. One pass over the packets without decoding them, so it costs time in
    proportion to the file's size, never to the duration the file declares; and at most
    `_PACKETS_PER_SECOND` packets for every second a file may last are read (a file made of
    millions of tiny packets is refused, not counted for minutes)."""
    spans: dict[int, list[int]] = {}
    bases = {}
    most = max_seconds * _PACKETS_PER_SECOND
    for count, packet in enumerate(container.demux(), 1):
        if count > most:
            raise MediaError(f"The file holds more than {most:,} packets, more than a video of at most "
                             f"{clock_text(max_seconds)} has.")
        if packet.pts is None or packet.time_base is None:
            continue
        end = packet.pts + (packet.duration or 0)
        span = spans.get(packet.stream.index)
        if span is None:
            spans[packet.stream.index] = [packet.pts, end]
            bases[packet.stream.index] = packet.time_base
        else:
            span[0], span[1] = min(span[0], packet.pts), max(span[1], end)
    if not spans:
        return None
    start = min(float(span[0] * bases[index]) for index, span in spans.items())
    return max(float(span[1] * bases[index]) for index, span in spans.items()) - start


def _declared_seconds(container: av.container.InputContainer, stream: av.VideoStream) -> float | None:
    """What the container (or else the stream) header says the file lasts; anyone can write it."""
    if container.duration:
        return container.duration / av.time_base
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None


def _duration(container: av.container.InputContainer, stream: av.VideoStream, max_seconds: int) -> float:
    """Seconds the file plays, measured from its packets, at most `max_seconds`; MediaError otherwise.

    The header's figure is used when the packets confirm it (it is exact where the last packet
    carries no duration); a header that claims far more than the packets hold is a damaged or
    crafted file and is refused, and so is a measured duration beyond the limit.
    """
    measured = _packet_span(container, max_seconds)
    if measured is None:
        raise MediaError("The video's duration could not be read from the file.")
    declared = _declared_seconds(container, stream)
    slack = max(_DECLARED_SLACK_SECONDS, measured * _DECLARED_SLACK_SHARE)
    if declared is not None and declared > measured + slack:
        raise MediaError(f"The file declares that it lasts {clock_text(declared)}, but its frames last "
                         f"{clock_text(measured)}: it is damaged, so it is refused.")
    seconds = declared if declared is not None and abs(declared - measured) <= slack else measured
    if seconds > max_seconds:
        raise MediaError(f"The video is {clock_text(seconds)} long; at most {clock_text(max_seconds)} is accepted.")
    return seconds


def probe(path: Path, filename: str = "", limits: MediaLimits = VIDEO_LIMITS) -> ProbedMedia:
    """What the file really is; MediaError when a browser could not play it or it is over `limits`."""
    extension = Path(filename or path.name).suffix.lower()
    if extension not in ACCEPTED_EXTENSIONS:
        allowed = ", ".join(sorted(ACCEPTED_EXTENSIONS))
        raise MediaError(f"'{filename or path.name}' is not a supported video file; use one of {allowed}.")
    try:
        with opened_video(path, limits.max_pixels) as (container, stream):
            kind = _CONTAINERS.get(container.format.name)
            if kind is None or kind[0] != ACCEPTED_EXTENSIONS[extension]:
                raise MediaError(
                    f"The file's contents ({container.format.long_name}) do not match its name ending {extension}."
                )
            codec = stream.codec_context.name
            if codec not in BROWSER_CODECS:
                raise MediaError(f"Browsers cannot play {codec} video; upload VP8, VP9, AV1, H.264 or Theora.")
            _check_pixels(stream, limits.max_pixels)  # before a single picture is decoded
            # Decoding one frame proves the stream is readable, not just its header.
            if next(container.decode(stream), None) is None:
                raise MediaError("The video stream has no frames.")
            container.seek(0)
            seconds = _duration(container, stream, limits.max_seconds)
    except av.FFmpegError as exc:
        raise MediaError("The file could not be read as a video (it may be damaged or not a video at all).") from exc
    if seconds < 0.5:
        raise MediaError("The video is shorter than a second.")
    return ProbedMedia(content_type=kind[0], extension=kind[1], codec=codec, duration_seconds=math.floor(seconds + 0.5))


def _copy_limited(source: BinaryIO, target: Path, max_bytes: int | None) -> int:
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(_COPY_CHUNK):
            written += len(chunk)
            if max_bytes is not None and written > max_bytes:
                raise MediaError(f"The file is larger than the upload limit of {max_bytes // (1024 * 1024)} MB.")
            out.write(chunk)
    if written == 0:
        raise MediaError("The file is empty.")
    return written


@contextmanager
def stored_media(
    source: BinaryIO, filename: str, media_root: Path, folder: str, *, limits: MediaLimits = VIDEO_LIMITS
) -> Iterator[StoredMedia]:
    """Stage, check and place an upload; removes the file if the `with` block fails.

    Save the database row inside the block: a MediaError is raised before anything is
    placed, and any exception from the block takes the placed file away again.
    """
    incoming = media_root / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    staged = incoming / f"{uuid.uuid4().hex}.partial"
    try:
        size = _copy_limited(source, staged, limits.max_bytes)
        probed = probe(staged, filename, limits)
        relative = f"{folder}/{uuid.uuid4().hex}{probed.extension}"
        final = media_root / relative
        final.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staged, final)
    finally:
        staged.unlink(missing_ok=True)
    try:
        yield StoredMedia(relative, probed.content_type, size, probed.duration_seconds)
    except BaseException:
        final.unlink(missing_ok=True)
        raise


def media_file(media_root: Path, relative_path: str) -> Path:
    """The absolute path of a stored file; refuses paths that would leave the media root."""
    root = media_root.resolve()
    path = (root / relative_path).resolve()
    if root not in path.parents:
        raise MediaError("media path outside the media root")
    return path
