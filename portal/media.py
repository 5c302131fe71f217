"""Sending stored media with HTTP Range support, so players can seek without downloading it all."""

from __future__ import annotations

from flask import send_file
from flask.typing import ResponseReturnValue

from models.catalog.media import MediaError, media_file
from models.errors import NotFound
from portal.settings import settings


def send_media(relative_path: str, content_type: str) -> ResponseReturnValue:
    """The file as a conditional response: `Range` gives 206 with the bytes asked for.

    Media is only served to signed-in users, so shared caches must not keep it.
    """
    try:
        path = media_file(settings().media_root, relative_path)
    except MediaError:  # a path outside the media root names no file: the 404, as a missing one
        raise NotFound("There is no such media file.") from None
    if not path.is_file():
        raise NotFound("The media file is missing on the server.")
    response = send_file(path, mimetype=content_type, conditional=True, max_age=3600)
    response.cache_control.public = False
    response.cache_control.private = True
    return response
