"""Sellers edit and delete their videos, admins their ads (issue 14, item 5).

Deleting asks first (a confirmation page, then a POST) because it cannot be undone; the
statistics and settlements of a deleted video stay (models/video_management.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from models import Ad, Role
from models.catalog_service import CatalogError
from models.video_management import delete_ad, delete_video, edit_ad, edit_video, owned_video
from portal.auth import role_required
from portal.catalog.forms import AdEditForm, ToggleForm, VideoEditForm
from portal.catalog.views import bp
from portal.database import db_session
from portal.settings import settings


def _owned(video_id: int):  # type: ignore[no-untyped-def]
    try:
        return owned_video(db_session(), video_id, current_user)
    except CatalogError as exc:
        abort(404, description=str(exc))


@bp.route("/videos/<int:video_id>/edit", methods=["GET", "POST"])
@role_required(Role.SELLER)
def edit(video_id: int) -> ResponseReturnValue:
    video = _owned(video_id)
    form = VideoEditForm(obj=video)
    if form.validate_on_submit():
        try:
            edit_video(db_session(), video_id=video_id, seller=current_user, title=form.title.data,
                       description=form.description.data)
        except CatalogError as exc:
            form.title.errors = [str(exc)]
            return render_template("catalog/edit.html", form=form, video=video), 400
        flash(f"“{video.title}” is saved.", "info")
        return redirect(url_for("catalog.mine"))
    return render_template("catalog/edit.html", form=form, video=video), 400 if request.method == "POST" else 200


@bp.route("/videos/<int:video_id>/delete", methods=["GET", "POST"])
@role_required(Role.SELLER)
def delete(video_id: int) -> ResponseReturnValue:
    video = _owned(video_id)
    form = ToggleForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400, description="The form expired; open the delete page again.")
        delete_video(db_session(), video_id=video_id, seller=current_user, media_root=settings().media_root,
                     now=datetime.now(UTC))
        flash(f"“{video.title}” is deleted. Its statistics and settlements stay in your history.", "info")
        return redirect(url_for("catalog.mine"))
    return render_template("catalog/delete.html", form=form, item=video, kind="video",
                           back=url_for("catalog.mine"))


def _ad(ad_id: int) -> Ad:
    ad = db_session().get(Ad, ad_id)
    if ad is None or ad.deleted_at is not None:
        abort(404, description=f"There is no ad {ad_id}.")
    return ad


@bp.route("/admin/ads/<int:ad_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def ad_edit(ad_id: int) -> ResponseReturnValue:
    """An ad's page: a preview player and its title."""
    ad = _ad(ad_id)
    form = AdEditForm(obj=ad)
    if form.validate_on_submit():
        try:
            edit_ad(db_session(), ad_id=ad_id, title=form.title.data)
        except CatalogError as exc:
            form.title.errors = [str(exc)]
            return render_template("catalog/ad_edit.html", form=form, ad=ad), 400
        flash(f"Ad “{ad.title}” is saved.", "info")
        return redirect(url_for("catalog.ads"))
    return render_template("catalog/ad_edit.html", form=form, ad=ad), 400 if request.method == "POST" else 200


@bp.route("/admin/ads/<int:ad_id>/delete", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def ad_delete(ad_id: int) -> ResponseReturnValue:
    ad = _ad(ad_id)
    form = ToggleForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400, description="The form expired; open the delete page again.")
        delete_ad(db_session(), ad_id=ad_id, media_root=settings().media_root, now=datetime.now(UTC))
        flash(f"Ad “{ad.title}” is deleted. The ad views it collected stay counted.", "info")
        return redirect(url_for("catalog.ads"))
    return render_template("catalog/delete.html", form=form, item=ad, kind="ad", back=url_for("catalog.ads"))
