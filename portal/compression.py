"""Compressed HTML, JSON and CSV answers (flask-compress), Brotli or gzip as the browser asks.

A dashboard page is ~50 KB of HTML and chart JSON that compresses to a tenth. Streamed
answers (CSV downloads) are left as they are, so a long download starts at once. Static
files are precompressed at build time instead (portal/assets.py).

The answers the WSGI fast paths give before Flask (progress reports, cached Top-5 and
settlements API answers) are small or already cheap and stay uncompressed.
"""

from __future__ import annotations

from flask import Flask
from flask_compress import Compress

COMPRESSED_TYPES = ["text/html", "application/json", "text/csv", "application/problem+json"]


def init_compression(app: Flask) -> None:
    app.config.update(
        COMPRESS_MIMETYPES=COMPRESSED_TYPES,
        # Brotli at level 4 costs about what gzip 6 costs and is ~15 % smaller; zstd is not
        # in every browser's Accept-Encoding yet and adds nothing over br here.
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_BR_LEVEL=4,
        COMPRESS_LEVEL=6,
        COMPRESS_MIN_SIZE=1024,
        COMPRESS_STREAMS=False,
    )
    Compress(app)
