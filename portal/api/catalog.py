"""Catalog endpoints of the JSON API: browse, upload and fetch media (§3)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import jsonify, request, url_for
from flask.typing import ResponseReturnValue
from spectree import Response

from models import Ad, Role, Video
from models.catalog.service import (
    MAX_PAGE_SIZE,
    CatalogError,
    all_ads,
    clean_description,
    clean_title,
    create_ad,
    create_video,
    list_published,
    watchable_video,
)
from models.errors import NotFound
from models.figures.skip_rates import NONE_SKIPPABLE, recent_ad_skip_rates
from portal.api import catalog_schemas as schema
from portal.api.auth import api_auth, current_api_user
from portal.api.blueprint import api_bp
from portal.api.openapi import PUBLIC, ErrorBody, api_spec, responses, validated_query
from portal.api.rule_checks import refused_by_rules
from portal.body_limits import accepts_uploads
from portal.database import db_session
from portal.media import send_media
from portal.playback.http import ad_json
from portal.queries.catalog import AdUploadFields, VideosQuery, VideoUploadFields
from portal.queries.parse import parse_query
from portal.settings import settings
from portal.upload_limits import ad_limits, video_limits

# Media: the file itself (200, or 206 for a `Range`), so only the refusals have a schema.
MEDIA_RESPONSES = Response(
    HTTP_200=(None, "The media file (`Range` requests are answered with 206 and the bytes asked for)"),
    HTTP_206=(None, "The bytes of the range asked for"),
    HTTP_304=(None, "Not modified since the copy the client has"),
    **{f"HTTP_{code}": ErrorBody for code in (401, 404, 413, 416, 503)},
)


def media_url(kind: str, item_id: int) -> str:
    if kind == "ad":
        return url_for("api.ad_media", ad_id=item_id)
    return url_for("api.video_media", video_id=item_id)


def video_json(video: Video) -> dict[str, Any]:
    return {
        "id": video.id,
        "title": video.title,
        "description": video.description,
        "seller": {"id": video.seller_id, "display_name": video.seller.display_name},
        "duration_seconds": video.duration_seconds,
        "content_type": video.content_type,
        "size_bytes": video.size_bytes,
        "published": video.is_published,
        "created_at": video.created_at.isoformat(),
        "ad_slots": [slot.position_seconds for slot in video.slots],
        "media_url": media_url("video", video.id),
    }


@api_bp.get("/videos")
@api_spec.validate(query=VideosQuery, resp=responses(schema.CatalogVideoList, 413, 422), security=PUBLIC,
                   tags=["catalog"])
def list_videos() -> ResponseReturnValue:
    """Published videos, newest first: `?page=1&per_page=12&q=title words`."""
    query: VideosQuery = validated_query()
    result = list_published(db_session(), page=query.page, per_page=query.per_page, query=query.q)
    return jsonify(items=[video_json(v) for v in result.videos], **result.page_meta(), max_per_page=MAX_PAGE_SIZE)


@api_bp.get("/videos/<int:video_id>")
@api_spec.validate(resp=responses(schema.CatalogVideo, 404, 413), security=PUBLIC, tags=["catalog"])
def get_video(video_id: int) -> ResponseReturnValue:
    video = db_session().get(Video, video_id)
    if video is None or not video.is_published:
        raise NotFound(f"There is no video {video_id}.", code="unknown_video")
    return jsonify(video_json(video))


def _upload() -> tuple[Any, str]:
    file = request.files.get("file")
    if file is None or not file.filename:
        raise CatalogError("Send the video as a multipart form field named 'file'.")
    return file.stream, file.filename


def _upload_rules(fields: type[VideoUploadFields | AdUploadFields]) -> Callable[[], None]:
    """The upload's own checks, without storing anything: what a form the schema refuses is told
    (the same refusal the view would give: the missing file, the flag, the title's rules)."""

    def check() -> None:
        _upload()
        form = parse_query(fields, request.form)
        clean_title(form.title)
        if isinstance(form, VideoUploadFields):
            clean_description(form.description)

    return check


def _file_route(view: Callable[..., Any]) -> Callable[..., Any]:
    """Document a media view without putting spectree's wrapper around it.

    The wrapper reads every response's body (`get_data`), which a file response sent in
    direct-passthrough mode refuses, and it would hold a whole video in memory; there is no
    request model to check either. The document finds the route's metadata by following
    `__wrapped__` from the registered view to spectree's (unused) wrapper.
    """
    described = api_spec.validate(resp=MEDIA_RESPONSES, tags=["catalog"])(view)

    @wraps(view)
    def plain(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    plain.__wrapped__ = described  # type: ignore[attr-defined]
    return plain


@api_bp.post("/videos")
@accepts_uploads
@api_auth(Role.SELLER)
@api_spec.validate(form=schema.VideoUploadForm, resp=responses(schema.CatalogVideo, 401, 403, 413, 422, 503, status=201),
                   before=refused_by_rules(_upload_rules(VideoUploadFields)), tags=["catalog"])
def upload_video() -> ResponseReturnValue:
    """multipart/form-data: `title`, `description`, `file`, optional `published` (default true)."""
    stream, filename = _upload()
    form = parse_query(VideoUploadFields, request.form)
    video = create_video(
        db_session(), seller=current_api_user(), title=form.title, description=form.description, upload=stream,
        filename=filename, media_root=settings().media_root, limits=video_limits(), published=form.published,
    )
    return jsonify(video_json(video)), 201


@api_bp.get("/videos/<int:video_id>/media")
@api_auth()
@_file_route
def video_media(video_id: int) -> ResponseReturnValue:
    video = watchable_video(db_session(), video_id, current_api_user())  # 404 unknown_video otherwise
    return send_media(video.media_path, video.content_type)


@api_bp.get("/ads")
@api_auth(Role.ADMIN)
@api_spec.validate(resp=responses(schema.CatalogAdList, 401, 403, 413, 503), tags=["catalog"])
def list_ads() -> ResponseReturnValue:
    """Every ad, with its skips over the last RECENT_SKIP_DAYS business days."""
    skips = recent_ad_skip_rates(db_session(), settings().tz)
    return jsonify(items=[dict(ad_json(ad, media_url), is_active=ad.is_active, impressions=ad.impressions,
                               skips=skips.get(ad.id, NONE_SKIPPABLE).as_json())
                          for ad in all_ads(db_session())])


@api_bp.post("/ads")
@accepts_uploads
@api_auth(Role.ADMIN)
@api_spec.validate(form=schema.AdUploadForm, resp=responses(schema.CatalogAd, 401, 403, 413, 422, 503, status=201),
                   before=refused_by_rules(_upload_rules(AdUploadFields)), tags=["catalog"])
def upload_ad() -> ResponseReturnValue:
    """multipart/form-data: `title`, `file`, optional `active` (default true)."""
    stream, filename = _upload()
    form = parse_query(AdUploadFields, request.form)
    ad = create_ad(
        db_session(), admin=current_api_user(), title=form.title, upload=stream, filename=filename,
        media_root=settings().media_root, limits=ad_limits(), active=form.active,
        window_hours=settings().ad_balance_window_hours,
    )
    return jsonify(dict(ad_json(ad, media_url), is_active=ad.is_active, impressions=ad.impressions)), 201


@api_bp.get("/ads/<int:ad_id>/media")
@api_auth()
@_file_route
def ad_media(ad_id: int) -> ResponseReturnValue:
    ad = db_session().get(Ad, ad_id)
    if ad is None:
        raise NotFound(f"There is no ad {ad_id}.", code="unknown_ad")
    return send_media(ad.media_path, ad.content_type)
