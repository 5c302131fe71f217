"""The landing page: where each kind of user starts (issue 14, item 3).

Viewers and visitors land on the video grid, with a "continue watching" row for a viewer
who has unfinished videos. Sellers land on their dashboard and admins on the operations
overview when the app has those pages (they are built separately; until then everybody gets
the grid). A seller without videos lands here with the "Upload your first video" prompt,
since an empty dashboard has nothing to say yet.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from models.catalog_cards import cards_for, continue_watching, has_videos
from models.catalog_service import list_published
from portal.database import db_session

bp = Blueprint("home", __name__)

# Where a role lands, when the app serves that path.
SELLER_LANDING = "/dashboard"
ADMIN_LANDING = "/admin/runs"


def _served(path: str) -> bool:
    return any(rule.rule == path and "GET" in (rule.methods or ()) for rule in current_app.url_map.iter_rules())


@bp.get("/")
def index() -> ResponseReturnValue:
    db = db_session()
    user = current_user if current_user.is_authenticated else None
    first_run = False
    if user is not None and user.is_admin and _served(ADMIN_LANDING):
        return redirect(ADMIN_LANDING)
    if user is not None and user.is_seller and not user.is_admin:
        first_run = not has_videos(db, user.id)
        if not first_run and _served(SELLER_LANDING):
            return redirect(SELLER_LANDING)
    latest = list_published(db)
    viewer_id = user.id if user is not None else None
    return render_template(
        "home.html",
        first_run=first_run,
        resume=continue_watching(db, user.id) if user is not None else [],
        latest=cards_for(db, latest.videos, viewer_id),
        more=latest.has_next,
    )
