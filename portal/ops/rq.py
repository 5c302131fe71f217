"""rq-dashboard mounted at `/admin/rq`, for admins only.

The dashboard is a third-party blueprint; this module wraps it instead of changing it:
- every URL of the blueprint (pages, JSON data, actions, its static files) first passes
  our access check: anonymous visitors go to the sign-in page, signed-in non-admins get 403;
- its state-changing actions are POSTs checked by flask-wtf's CSRFProtect like every other
  form. The dashboard's own JavaScript sends the token in `X-CSRFToken`, read from a
  `_csrf_token` cookie, so each dashboard response sets that cookie (path `/admin/rq`,
  SameSite=Strict). Its one action that also answers GET (requeue all failed jobs of a
  queue) is refused on GET, so a link or an <img> on another site cannot trigger it;
- URLs it would answer with an exception are a clean 404 (`_dashboard_url_problem`): an
  instance number other than 0 (it indexes its list of Redis URLs, ours has one entry), an
  unknown job registry, a page size or page that is not a positive whole number.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from redis.exceptions import ResponseError
from rq.exceptions import NoSuchJobError
from rq_dashboard.web import blueprint as rq_blueprint
from rq_dashboard.web import setup_rq_connection

from models import Role
from models.errors import DomainError, Forbidden, NotFound
from portal.errors import WrongMethod

URL_PREFIX = "/admin/rq"
CSRF_COOKIE = "_csrf_token"
# The job registries the dashboard's job lists know (anything else reaches an unset variable).
REGISTRIES = frozenset({"queued", "failed", "deferred", "started", "finished", "scheduled", "canceled"})


def admins_only() -> Response | None:
    """Runs before every request of the dashboard, JSON and actions included."""
    if request.blueprint != rq_blueprint.name:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.signin", next=request.full_path.rstrip("?")))
    if current_user.role != Role.ADMIN:
        raise Forbidden("The job queue dashboard is for admins.")
    if request.method == "GET" and request.endpoint == "rq_dashboard.requeue_all":
        raise WrongMethod("Requeueing changes the queue: send it as a POST from the dashboard.")
    problem = _dashboard_url_problem(request.view_args or {})
    if problem is not None:
        raise NotFound(problem)
    return None


def _dashboard_url_problem(args: dict[str, object]) -> str | None:
    """Why the dashboard cannot answer these URL parts (it would raise: a 500), or None."""
    instance = args.get("instance_number")
    if instance is not None and instance != 0:
        # rq-dashboard indexes RQ_DASHBOARD_REDIS_URL with it; the portal has one queue Redis.
        return "There is one queue Redis: its dashboard is instance 0."
    registry = args.get("registry_name")
    if registry is not None and registry not in REGISTRIES:
        return f"There is no job registry {registry!r}."
    for name in ("per_page", "page"):
        value = args.get(name)
        if value is not None and not (str(value).isdigit() and str(value).isascii() and int(str(value)) > 0):
            return f"{name} must be a whole number from 1."
    return None


def _csrf_cookie(response: Response) -> Response:
    """Hand the dashboard's JavaScript the token it sends back as X-CSRFToken."""
    if request.blueprint != rq_blueprint.name:
        return response
    if current_user.is_authenticated and response.mimetype == "text/html":
        response.set_cookie(CSRF_COOKIE, generate_csrf(), path=URL_PREFIX, samesite="Strict",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False), httponly=False)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_rq_dashboard(app: Flask, redis_url: str) -> None:
    """Connect the dashboard (`rq_blueprint`, mounted at URL_PREFIX by create_app) to the queue
    Redis the workers use.

    The access check (`admins_only`) is registered by create_app among the first before-request
    hooks, ahead of CSRFProtect's, so an anonymous or non-admin request is turned away (sign-in
    page / 403) before anything else about it is judged; an admin's POST without a valid token
    then fails the CSRF check.
    """
    app.config["RQ_DASHBOARD_REDIS_URL"] = redis_url
    app.config.setdefault("RQ_DASHBOARD_POLL_INTERVAL", 5000)
    app.after_request(_csrf_cookie)
    app.register_error_handler(NoSuchJobError, _no_such_job)
    app.register_error_handler(ResponseError, _queue_refused)
    setup_rq_connection(app)


def _queue_refused(exc: ResponseError) -> ResponseReturnValue:
    """Redis refusing a dashboard action (e.g. compacting an empty queue) is a 409, not a 500:
    answered as the one refusal by the one DomainError handler (JSON for the dashboard's calls)."""
    if request.blueprint != rq_blueprint.name:
        raise exc
    return current_app.handle_user_exception(DomainError(f"Redis refused: {exc}", kind="conflict", code="conflict"))


def _no_such_job(exc: NoSuchJobError) -> ResponseReturnValue:
    """The dashboard lets RQ's lookup error escape (a 500); a stale job id is a 404."""
    return current_app.handle_user_exception(NotFound(str(exc)))
