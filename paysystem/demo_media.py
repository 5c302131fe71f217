"""Playable demo media made locally with PyAV: small VP8/WebM clips that show their own clock.

Nothing is downloaded. Each frame shows the playback position (mm:ss) and a progress bar,
which makes seeking and resuming visible in the browser. At 1 frame per second and
160×90 pixels a 12-minute clip takes about half a second to encode and ~550 KB on disk: the
label is drawn once, one colour converter serves every frame (a new one per frame cost more than
the encoding), and the encoder runs on one thread (frames this small gain nothing from more;
on a busy machine the threads only wait for each other). The demo seeds 13 clips, and the tests
seed the demo twice, so this is most of `seed-demo`'s time.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
from av.video.reformatter import VideoReformatter

WIDTH, HEIGHT, FPS = 160, 90, 1

# 3×5 bitmap glyphs, one string per row.
_GLYPHS = {
    "0": ["111", "101", "101", "101", "111"],
    "1": ["010", "110", "010", "010", "111"],
    "2": ["111", "001", "111", "100", "111"],
    "3": ["111", "001", "111", "001", "111"],
    "4": ["101", "101", "111", "001", "001"],
    "5": ["111", "100", "111", "001", "111"],
    "6": ["111", "100", "111", "101", "111"],
    "7": ["111", "001", "010", "010", "010"],
    "8": ["111", "101", "111", "101", "111"],
    "9": ["111", "101", "111", "001", "111"],
    ":": ["000", "010", "000", "010", "000"],
    "A": ["010", "101", "111", "101", "101"],
    "D": ["110", "101", "101", "101", "110"],
    " ": ["000", "000", "000", "000", "000"],
}


def _fill(frame: bytearray, x: int, y: int, w: int, h: int, rgb: bytes) -> None:
    row = rgb * w
    for yy in range(max(0, y), min(HEIGHT, y + h)):
        start = (yy * WIDTH + x) * 3
        frame[start : start + len(row)] = row


def _text(frame: bytearray, text: str, x: int, y: int, scale: int, rgb: bytes) -> None:
    for ch in text:
        glyph = _GLYPHS.get(ch, _GLYPHS[" "])
        for gy, line in enumerate(glyph):
            for gx, bit in enumerate(line):
                if bit == "1":
                    _fill(frame, x + gx * scale, y + gy * scale, scale, scale, rgb)
        x += 4 * scale


def write_clip(path: Path, duration_seconds: int, background: tuple[int, int, int], label: str = "") -> Path:
    """Encode a clip of exactly `duration_seconds` to `path` (WebM/VP8) and return it."""
    if duration_seconds < 1:
        raise ValueError("a clip needs at least one second")
    path.parent.mkdir(parents=True, exist_ok=True)
    bg = bytes(background)
    white, bar = b"\xff\xff\xff", b"\xff\xd0\x40"
    background_frame = bytearray(bg * (WIDTH * HEIGHT))
    if label:
        _text(background_frame, label, 6, 4, 2, white)
    to_yuv = VideoReformatter()
    tmp = path.with_suffix(".partial.webm")
    with av.open(str(tmp), "w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.gop_size = 5  # a key frame every 5 s keeps seeking snappy
        stream.thread_count = 1
        stream.options = {"deadline": "realtime", "cpu-used": "16", "b": "40k"}
        for index in range(duration_seconds * FPS):
            second = index // FPS
            frame = bytearray(background_frame)
            clock = f"{second // 60:02d}:{second % 60:02d}"
            _text(frame, clock, 14, 20, 7, white)
            _fill(frame, 0, HEIGHT - 8, max(1, WIDTH * (index + 1) // (duration_seconds * FPS)), 8, bar)
            video_frame = av.VideoFrame(WIDTH, HEIGHT, "rgb24")
            video_frame.planes[0].update(bytes(frame))
            video_frame = to_yuv.reformat(video_frame, format="yuv420p")
            video_frame.pts = index
            video_frame.time_base = Fraction(1, FPS)
            for packet in stream.encode(video_frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    tmp.replace(path)
    return path
