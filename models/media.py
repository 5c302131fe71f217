"""Media files under the media root: staging an upload, checking it is real, moving it in place.

An upload is copied to `incoming/` first, opened with PyAV (the container must be one a
browser plays, its video stream must decode, its duration is read from the file), then moved
to its final name. The caller saves the database row inside `stored_media(...)`; if that
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


class MediaError(DomainError, ValueError):
    """A file that cannot be used as a video; the message is safe to show to the uploader."""


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


def _duration(container: av.container.InputContainer, stream: av.VideoStream) -> float | None:
    """Seconds, from the container header, the stream header, or (last resort) the packets."""
    if container.duration:
        return container.duration / av.time_base
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    end = None
    for packet in container.demux(stream):
        if packet.pts is not None and packet.time_base:
            packet_end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            end = packet_end if end is None else max(end, packet_end)
    return end


def probe(path: Path, filename: str = "") -> ProbedMedia:
    """What the file really is; MediaError when a browser could not play it."""
    extension = Path(filename or path.name).suffix.lower()
    if extension not in ACCEPTED_EXTENSIONS:
        allowed = ", ".join(sorted(ACCEPTED_EXTENSIONS))
        raise MediaError(f"'{filename or path.name}' is not a supported video file; use one of {allowed}.")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaError("The file has no video stream.")
            stream = container.streams.video[0]
            kind = _CONTAINERS.get(container.format.name)
            if kind is None or kind[0] != ACCEPTED_EXTENSIONS[extension]:
                raise MediaError(
                    f"The file's contents ({container.format.long_name}) do not match its name ending {extension}."
                )
            codec = stream.codec_context.name
            if codec not in BROWSER_CODECS:
                raise MediaError(f"Browsers cannot play {codec} video; upload VP8, VP9, AV1, H.264 or Theora.")
            # Decoding one frame proves the stream is readable, not just its header.
            if next(container.decode(stream), None) is None:
                raise MediaError("The video stream has no frames.")
            container.seek(0)
            seconds = _duration(container, stream)
    except av.FFmpegError as exc:
        raise MediaError("The file could not be read as a video (it may be damaged or not a video at all).") from exc
    if seconds is None or seconds < 0.5:
        raise MediaError("The video's duration could not be read from the file, or it is shorter than a second.")
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
    source: BinaryIO, filename: str, media_root: Path, folder: str, *, max_bytes: int | None = None
) -> Iterator[StoredMedia]:
    """Stage, check and place an upload; removes the file if the `with` block fails.

    Save the database row inside the block: a MediaError is raised before anything is
    placed, and any exception from the block takes the placed file away again.
    """
    incoming = media_root / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    staged = incoming / f"{uuid.uuid4().hex}.partial"
    try:
        size = _copy_limited(source, staged, max_bytes)
        probed = probe(staged, filename)
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
