"""Catalog pages: the public list of published videos, sellers' uploads, admins' ads."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from models import Ad, Role, Video
from models.catalog.cards import cards_for
from models.catalog.media import MediaError, clock_text
from models.catalog.posters import ad_poster, poster_path_of
from models.catalog.service import (
    CatalogError,
    all_ads,
    can_watch,
    create_ad,
    create_video,
    list_published,
    sellers_videos,
    set_ad_active,
    set_published,
)
from models.errors import NotFound
from models.figures.skip_rates import RECENT_SKIP_DAYS, recent_ad_skip_rates
from portal.auth import role_required
from portal.body_limits import is_upload_request, too_large_message
from portal.catalog.forms import AdUploadForm, ToggleForm, VideoUploadForm
from portal.database import db_session
from portal.media import send_media
from portal.queries.catalog import AdActiveForm, PublishedForm, VideosQuery
from portal.queries.parse import parse_query
from portal.settings import settings
from portal.upload_limits import ad_limits, video_limits
from portal.upload_pages import upload_page

bp = Blueprint("catalog", __name__)


@bp.app_template_filter("clock")
def clock(seconds: int) -> str:
    """1:05:09 / 12:00 / 0:04 for a duration in seconds."""
    return clock_text(seconds)


def _ad_list() -> dict[str, object]:
    """The admins' ad list: the ads, their skip rates over the recent days (issue 21, item 12)
    and which have a poster (item 14; taken at upload)."""
    ads = all_ads(db_session())
    media_root = settings().media_root
    return {"ads": ads, "skip_rates": recent_ad_skip_rates(db_session(), settings().tz), "skip_days": RECENT_SKIP_DAYS,
            "posters": {ad.id for ad in ads if ad_poster(media_root, ad.media_path)}}


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> ResponseReturnValue:
    """An upload over MAX_UPLOAD_MB: show the form again with the limit, not a bare error page."""
    if not is_upload_request():
        return render_template("errors/error.html", code=413, title="Too large", message=too_large_message()), 413
    if request.endpoint == "catalog.ads":
        form, template, extra = AdUploadForm(formdata=None), "catalog/ads.html", _ad_list()
    else:
        form, template, extra = VideoUploadForm(formdata=None), "catalog/upload.html", {}
    form.file.errors = [too_large_message()]
    return render_template(template, form=form, toggle_form=ToggleForm(formdata=None), **extra), 413


@bp.get("/videos")
def index() -> ResponseReturnValue:
    """Published videos, newest first, with title search; open to everybody, watching needs sign-in."""
    query = parse_query(VideosQuery)  # the page shows a fixed number: per_page is checked, not used
    result = list_published(db_session(), page=query.page, query=query.q)
    viewer_id = current_user.id if current_user.is_authenticated else None
    return render_template("catalog/list.html", result=result, cards=cards_for(db_session(), result.videos, viewer_id))


@bp.route("/videos/upload", methods=["GET", "POST"])
@upload_page(Role.SELLER)
def upload() -> ResponseReturnValue:
    form = VideoUploadForm()
    if form.validate_on_submit():
        file = form.file.data
        try:
            video = create_video(
                db_session(), seller=current_user, title=form.title.data, description=form.description.data,
                upload=file.stream, filename=file.filename or "", media_root=settings().media_root,
                limits=video_limits(), published=bool(form.published.data),
            )
        except (CatalogError, MediaError) as exc:  # shown beside the file field, the form kept
            form.file.errors = [str(exc)]
            return render_template("catalog/upload.html", form=form), 422
        slots = len(video.slots)
        flash(f"“{video.title}” is uploaded: {clock(video.duration_seconds)} long, "
              f"{slots} ad slot{'s' if slots != 1 else ''}.", "info")
        if request.headers.get("X-Requested-With") == "XMLHttpRequest":
            # static/js/upload.js: it navigates itself, so the flash is shown on the next page.
            return jsonify(redirect=url_for("catalog.mine"))
        return redirect(url_for("catalog.mine"))
    return render_template("catalog/upload.html", form=form), 400 if request.method == "POST" else 200


@bp.get("/videos/mine")
@role_required(Role.SELLER)
def mine() -> ResponseReturnValue:
    return render_template("catalog/mine.html", videos=sellers_videos(db_session(), current_user),
                           toggle_form=ToggleForm())


@bp.post("/videos/<int:video_id>/published")
@role_required(Role.SELLER)
def publish(video_id: int) -> ResponseReturnValue:
    form = parse_query(PublishedForm, request.form)
    video = set_published(db_session(), video_id=video_id, seller=current_user, published=form.published == "1")
    flash(f"“{video.title}” is {'published' if video.is_published else 'hidden from the catalog'}.", "info")
    return redirect(url_for("catalog.mine"))


@bp.route("/admin/ads", methods=["GET", "POST"])
@upload_page(Role.ADMIN)
def ads() -> ResponseReturnValue:
    form = AdUploadForm()
    status = 200
    if form.validate_on_submit():
        file = form.file.data
        try:
            ad = create_ad(
                db_session(), admin=current_user, title=form.title.data, upload=file.stream,
                filename=file.filename or "", media_root=settings().media_root, limits=ad_limits(),
                active=bool(form.active.data), window_hours=settings().ad_balance_window_hours,
            )
        except (CatalogError, MediaError) as exc:  # shown beside the file field, the form kept
            form.file.errors = [str(exc)]
            status = 422
        else:
            flash(f"Ad “{ad.title}” ({clock(ad.duration_seconds)}) is registered.", "info")
            return redirect(url_for("catalog.ads"))
    elif request.method == "POST":
        status = 400
    return render_template("catalog/ads.html", form=form, toggle_form=ToggleForm(), **_ad_list()), status


@bp.post("/admin/ads/<int:ad_id>/active")
@role_required(Role.ADMIN)
def ad_active(ad_id: int) -> ResponseReturnValue:
    form = parse_query(AdActiveForm, request.form)
    ad = set_ad_active(db_session(), ad_id=ad_id, active=form.active == "1",
                       window_hours=settings().ad_balance_window_hours)
    flash(f"Ad “{ad.title}” is {'active' if ad.is_active else 'switched off'}.", "info")
    return redirect(url_for("catalog.ads"))


@bp.get("/admin/ads/<int:ad_id>/poster.jpg")
@role_required(Role.ADMIN)
def ad_poster_image(ad_id: int) -> ResponseReturnValue:
    """An ad's poster frame, for the admins' ad list."""
    ad = db_session().get(Ad, ad_id)
    if ad is None or ad.deleted_at is not None:
        raise NotFound("There is no such ad.")
    return send_media(poster_path_of(ad.media_path), "image/jpeg")


@bp.get("/videos/<int:video_id>/poster.jpg")
def poster(video_id: int) -> ResponseReturnValue:
    """A video's poster frame: public for published videos, like the catalog card that shows it."""
    video = db_session().get(Video, video_id)
    user = current_user if current_user.is_authenticated else None
    if video is None or video.poster_path is None or video.deleted_at is not None or not (
            video.is_published or can_watch(video, user)):
        raise NotFound("This video has no poster.")
    return send_media(video.poster_path, "image/jpeg")
