"""Issue 18, item 2: an upload's duration and picture size are what the file holds, and bounded.

The hostile files are made here with PyAV: a few VP8 frames whose timestamps span 10^6 s, a
3-second clip whose WebM header (the EBML Duration element) claims 10^6 s, and one picture of
2896×2896, just past the 3840×2160 pixels a picture may have (an 8192×8192 one took 5 s to
encode here and is refused by the same check). Each used to be taken at its word (3,333
ad-slot rows for the first two, 200 MB to decode an 8192×8192 picture); now each is refused at
once with a 422 and a message, through the upload page and the API, leaving no row and no file
behind.
"""

from __future__ import annotations

import io
import struct
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import pytest
from sqlalchemy import func, select

from models import Ad, AdSlot, Role, Video
from models.catalog.media import MediaError, MediaLimits, probe
from models.catalog.posters import write_poster
from portal import create_app
from tests.watching_support import bearer, csrf_token, sign_in

HUGE = 10**6  # seconds: 277 hours, 69 times MAX_VIDEO_SECONDS
_EBML_DURATION = b"\x44\x89\x88"  # the Duration element's id and an 8-byte float size


def _webm(path: Path, pictures: list[tuple[int, int]], *, frame_seconds: int = 1) -> Path:
    """VP8 frames of the given (pts in seconds, square size in pixels), as demo_media encodes clips.

    A size change inside the stream keeps the stream header at the first size.
    """
    base = Fraction(1, 1)
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=1)
        stream.width = stream.height = pictures[0][1]
        stream.pix_fmt, stream.codec_context.time_base = "yuv420p", base
        for pts, size in pictures:
            encoder = av.CodecContext.create("libvpx", "w")
            encoder.width = encoder.height = size
            encoder.pix_fmt, encoder.time_base = "yuv420p", base
            encoder.options = {"deadline": "realtime", "cpu-used": "16", "b": "40k"}
            frame = av.VideoFrame(size, size, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([90]) * plane.buffer_size)
            frame.pts, frame.time_base = 0, base
            for packet in [*encoder.encode(frame), *encoder.encode(None)]:
                packet.stream, packet.time_base = stream, base
                packet.pts = packet.dts = pts
                packet.duration = frame_seconds
                out.mux(packet)
    return path


def _declaring(path: Path, source: Path, seconds: float) -> Path:
    """`source` with its header's Duration element set to `seconds` (the frames stay as they are)."""
    data = source.read_bytes()
    at = data.index(_EBML_DURATION) + len(_EBML_DURATION)
    old_ms = struct.unpack(">d", data[at:at + 8])[0]
    assert 2_000 <= old_ms <= 4_000, old_ms  # the default timecode scale: milliseconds
    path.write_bytes(data[:at] + struct.pack(">d", seconds * 1000) + data[at + 8:])
    return path


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("hostile")
    clip3 = _webm(folder / "three.webm", [(0, 16), (1, 16), (2, 16)])
    with av.open(str(clip3)) as container:
        assert abs(container.duration / av.time_base - 3) < 0.01
    return {
        "huge pts": (_webm(folder / "huge.webm", [(0, 16), (1, 16), (HUGE - 1, 16)]),
                     "long; at most 4:00:00 is accepted"),
        "lying header": (_declaring(folder / "lying.webm", clip3, HUGE),
                         "declares that it lasts 277:46:40, but its frames last 0:03"),
        "2896x2896": (_webm(folder / "big.webm", [(0, 2896)]),
                      "2896×2896 pixels (8,386,816); at most 8,294,400 pixels"),
    }


def _rows(db) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    db.rollback()
    return tuple(db.scalar(select(func.count()).select_from(model)) for model in (Video, AdSlot, Ad))


def _files(media_root: Path) -> set[Path]:
    return {path for path in media_root.rglob("*") if path.is_file()}


def _send(client, kind: str, seller_or_admin, settings, path: Path):  # type: ignore[no-untyped-def]
    """POST the file through the page (`kind` page-video / page-ad) or the API (api-video / api-ad)."""
    via, what = kind.split("-")
    file = (io.BytesIO(path.read_bytes()), path.name)
    if via == "api":
        return client.post(f"/api/v1/{what}s", headers=bearer(seller_or_admin, settings),
                           data={"title": "Hostile", "file": file}, content_type="multipart/form-data")
    sign_in(client, seller_or_admin)
    url = "/videos/upload" if what == "video" else "/admin/ads"
    return client.post(url, data={"csrf_token": csrf_token(client), "title": "Hostile", "file": file},
                       content_type="multipart/form-data")


def _message(response) -> str:  # type: ignore[no-untyped-def]
    if not response.is_json:
        return response.get_data(as_text=True)
    body = response.get_json()
    return str(body.get("message", body))  # an accepted upload has no message: show what came back


@pytest.mark.parametrize("name", ["huge pts", "lying header", "2896x2896"])
@pytest.mark.parametrize("kind", ["page-video", "api-video", "page-ad", "api-ad"])
def test_a_hostile_file_is_refused_at_once_leaving_nothing(client, make_user, settings, db, hostile, name, kind):
    path, message = hostile[name]
    if kind.endswith("-ad") and name == "huge pts":
        message = "long; at most 5:00 is accepted"  # MAX_AD_SECONDS
    uploader = make_user(Role.SELLER if kind.endswith("-video") else Role.ADMIN)
    rows, files = _rows(db), _files(settings.media_root)
    started = time.monotonic()
    response = _send(client, kind, uploader, settings, path)
    elapsed = time.monotonic() - started
    assert response.status_code == 422, (response.status_code, _message(response)[:300])
    assert message in _message(response)
    assert elapsed < 3, f"{elapsed:.1f} s"
    assert _rows(db) == rows
    assert _files(settings.media_root) == files


def test_a_video_of_exactly_four_hours_has_48_slots_and_one_second_more_is_refused(client, make_user, settings, db,
                                                                                 tmp_path):
    seller = make_user(Role.SELLER)
    four_hours = _webm(tmp_path / "four.webm", [(0, 16), (14_399, 16)])
    answer = _send(client, "api-video", seller, settings, four_hours)
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["duration_seconds"] == 14_400 and len(body["ad_slots"]) == 48
    assert len(client.get(f"/api/v1/videos/{body['id']}").get_json()["ad_slots"]) == 48

    rows = _rows(db)
    longer = _webm(tmp_path / "longer.webm", [(0, 16), (14_400, 16)])
    refused = _send(client, "api-video", seller, settings, longer)
    assert refused.status_code == 422 and "4:00:01 long" in refused.get_json()["message"]
    assert _rows(db) == rows


def test_the_limits_come_from_the_settings(settings, make_user, db, tmp_path):
    app = create_app(replace(settings, max_video_seconds=2, max_ad_seconds=1, max_video_pixels=16 * 16))
    client = app.test_client()
    seller, admin = make_user(Role.SELLER), make_user(Role.ADMIN)
    three = _webm(tmp_path / "three.webm", [(0, 16), (1, 16), (2, 16)])
    rows = _rows(db)
    video = _send(client, "api-video", seller, settings, three)
    assert video.status_code == 422 and "0:03 long; at most 0:02" in video.get_json()["message"]
    ad = _send(client, "page-ad", admin, settings, three)
    assert ad.status_code == 422 and "0:03 long; at most 0:01" in ad.get_data(as_text=True)
    wider = _webm(tmp_path / "wider.webm", [(0, 32)])
    larger = _send(client, "api-video", seller, settings, wider)
    assert larger.status_code == 422 and "32×32 pixels (1,024); at most 256 pixels" in larger.get_json()["message"]
    assert _rows(db) == rows


def test_the_poster_decoder_refuses_pictures_larger_than_the_header_said(tmp_path):
    """A stream that starts small and grows passes the header check; its poster's decoder still
    refuses the large pictures instead of allocating them (here 16×16, then 256×256 over a 1,000 px cap)."""
    root = tmp_path / "media"
    (root / "videos").mkdir(parents=True)
    _webm(root / "videos" / "grows.webm", [(0, 16), (1, 256), (2, 256)])
    assert write_poster(root, "videos/grows.webm", 3, max_pixels=1_000) is None
    assert not (root / "posters").exists()
    assert write_poster(root, "videos/grows.webm", 3, max_pixels=3840 * 2160) == "posters/grows.jpg"


def test_a_file_of_countless_tiny_packets_is_refused_without_reading_them_all(tmp_path):
    """Measuring reads every packet; a short file stuffed with them would keep the worker busy
    for minutes (300,000 packets take 1.5 s). At most 240 a second of the limit are read."""
    path = _webm(tmp_path / "two.webm", [(0, 16), (1, 16)])
    many = tmp_path / "many.webm"
    with av.open(str(path)) as source, av.open(str(many), "w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=1000)
        stream.width = stream.height = 16
        stream.pix_fmt, stream.codec_context.time_base = "yuv420p", Fraction(1, 1000)
        key, inter = [bytes(packet) for packet in source.demux() if packet.size]
        for index in range(1_000):  # one second of the same inter frame, a packet a millisecond
            packet = av.Packet(key if index == 0 else inter)
            packet.stream, packet.time_base = stream, Fraction(1, 1000)
            packet.pts = packet.dts = index
            packet.duration, packet.is_keyframe = 1, index == 0
            out.mux(packet)
    with pytest.raises(MediaError, match="more than 480 packets"):
        probe(many, "many.webm", MediaLimits(max_seconds=2))
    assert probe(many, "many.webm", MediaLimits(max_seconds=5)).duration_seconds == 1
