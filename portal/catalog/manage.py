"""Sellers edit and delete their videos, admins their ads (issue 14, item 5).

Deleting asks first (a confirmation page, then a POST) because it cannot be undone; the
statistics and settlements of a deleted video stay (models/catalog/video_management.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from models import Ad, Role, Video
from models.catalog.service import CatalogError
from models.catalog.video_management import (
    delete_ad,
    delete_video,
    edit_ad,
    edit_video,
    owned_video,
)
from models.errors import NotFound
from portal.auth import role_required
from portal.catalog.forms import AdEditForm, ToggleForm, VideoEditForm
from portal.catalog.views import bp
from portal.database import db_session
from portal.settings import settings


def _owned(video_id: int) -> Video:
    """The seller's own video (admins: any); another's or a deleted one is the 404 of a missing one."""
    return owned_video(db_session(), video_id, current_user)


def _edit_page(form: FlaskForm, save: Callable[[], object], template: str, saved: str, back: str,
               **context: object) -> ResponseReturnValue:
    """Show an edit form; on a valid POST save it (CatalogError → the form again) and go back."""
    if form.validate_on_submit():
        try:
            save()
        except CatalogError as exc:  # shown beside the title field, the form kept (not an HTTP conversion)
            form.title.errors = [str(exc)]
            return render_template(template, form=form, **context), 400
        flash(saved, "info")
        return redirect(back)
    return render_template(template, form=form, **context), 400 if request.method == "POST" else 200


def _delete_page(item: object, kind: str, remove: Callable[[], object], deleted: str,
                 back: str) -> ResponseReturnValue:
    """A confirmation page; its POST deletes for good (CSRFProtect has checked its token before
    the view: a POST without it is the one `csrf_failed` refusal, portal/errors.py)."""
    form = ToggleForm()
    if request.method == "POST":
        remove()
        flash(deleted, "info")
        return redirect(back)
    return render_template("catalog/delete.html", form=form, item=item, kind=kind, back=back)


@bp.route("/videos/<int:video_id>/edit", methods=["GET", "POST"])
@role_required(Role.SELLER)
def edit(video_id: int) -> ResponseReturnValue:
    video = _owned(video_id)
    form = VideoEditForm(obj=video)
    return _edit_page(
        form,
        lambda: edit_video(db_session(), video_id=video_id, seller=current_user, title=form.title.data,
                           description=form.description.data),
        "catalog/edit.html", f"“{form.title.data}” is saved.", url_for("catalog.mine"), video=video)


@bp.route("/videos/<int:video_id>/delete", methods=["GET", "POST"])
@role_required(Role.SELLER)
def delete(video_id: int) -> ResponseReturnValue:
    video = _owned(video_id)
    return _delete_page(
        video, "video",
        lambda: delete_video(db_session(), video_id=video_id, seller=current_user,
                             media_root=settings().media_root, now=datetime.now(UTC)),
        f"“{video.title}” is deleted. Its statistics and settlements stay in your history.", url_for("catalog.mine"))


def _ad(ad_id: int) -> Ad:
    ad = db_session().get(Ad, ad_id)
    if ad is None or ad.deleted_at is not None:
        raise NotFound(f"There is no ad {ad_id}.")
    return ad


@bp.route("/admin/ads/<int:ad_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def ad_edit(ad_id: int) -> ResponseReturnValue:
    """An ad's page: a preview player and its title."""
    ad = _ad(ad_id)
    form = AdEditForm(obj=ad)
    return _edit_page(form, lambda: edit_ad(db_session(), ad_id=ad_id, title=form.title.data),
                      "catalog/ad_edit.html", f"Ad “{form.title.data}” is saved.", url_for("catalog.ads"), ad=ad)


@bp.route("/admin/ads/<int:ad_id>/delete", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def ad_delete(ad_id: int) -> ResponseReturnValue:
    ad = _ad(ad_id)
    return _delete_page(
        ad, "ad", lambda: delete_ad(db_session(), ad_id=ad_id, media_root=settings().media_root, now=datetime.now(UTC)),
        f"Ad “{ad.title}” is deleted. The ad views it collected stay counted.", url_for("catalog.ads"))
