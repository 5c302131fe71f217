"""The landing page: where each kind of user starts (issue 14, item 3).

Viewers and visitors land on the video grid, with a "continue watching" row for a viewer
who has unfinished videos. Sellers land on their dashboard and admins on the operations
console's job runs. A seller without videos lands here with the "Upload your first video"
prompt, since an empty dashboard has nothing to say yet.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from models.catalog.cards import cards_for, continue_watching, has_videos
from models.catalog.service import list_published
from portal.database import db_session

bp = Blueprint("home", __name__)

@bp.get("/")
def index() -> ResponseReturnValue:
    db = db_session()
    user = current_user if current_user.is_authenticated else None
    first_run = False
    if user is not None and user.is_admin:
        return redirect(url_for("ops_runs.index"))
    if user is not None and user.is_seller and not user.is_admin:
        first_run = not has_videos(db, user.id)
        if not first_run:
            return redirect(url_for("seller_portal.dashboard"))
    latest = list_published(db)
    viewer_id = user.id if user is not None else None
    return render_template(
        "home.html",
        first_run=first_run,
        resume=continue_watching(db, user.id) if user is not None else [],
        latest=cards_for(db, latest.videos, viewer_id),
        more=latest.has_next,
    )
