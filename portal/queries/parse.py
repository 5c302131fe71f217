"""The one parser of request arguments into query models, for pages and API views alike.

A value the model refuses is a `RequestInvalid` domain error: 422 `invalid_request` with a
message naming the field, answered by the one error handler (portal/error_pages.py) as JSON for
the API and as a page for people; a page with a form may catch it and show the problem beside
the field instead (portal/seller_portal/views.py `_form_query`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, TypeAdapter, ValidationError

from models.errors import DomainError
from portal.queries.fields import Day

M = TypeVar("M", bound=BaseModel)
# The status of a refused argument: the same on every page and endpoint (issue 19, item 1).
INVALID_STATUS = 422


class RequestInvalid(DomainError):
    """A request that does not match its query model (or its body schema: portal/api/openapi.py).

    `status` is 422 unless an API route pins another (`validation_error_status`); `field` is the
    parameter at fault (None: the request as a whole) and `problem` the sentence without it, for
    a page's form."""

    def __init__(self, message: str, status: int = INVALID_STATUS, field: str | None = None,
                 problem: str | None = None) -> None:
        super().__init__(message, kind="invalid" if status == 422 else "bad_request", code="invalid_request")
        self.status = status
        self.field = field
        self.problem = problem or message


def first_problem(exc: Any) -> str:
    """`where: what` of the first pydantic error, the one-sentence message of a refusal."""
    errors = exc.errors() if hasattr(exc, "errors") else []
    if not errors:
        return "the request does not match its schema"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "request"
    return f"{where}: {first.get('msg', 'invalid')}"


def _sentence(msg: str) -> str:
    """A pydantic message as a sentence for a form ("Value error, the end date is …" → "The end date is ….")."""
    text = msg.removeprefix("Value error, ").strip() or "This value is not valid"
    text = text[0].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def _given(args: Any) -> dict[str, Any]:
    given = args.to_dict(flat=False) if hasattr(args, "to_dict") else dict(args)
    # A form sends an empty field for "not chosen" (e.g. all sellers): its default applies. A
    # repeated parameter counts once, by its first value.
    given = {name: value[0] if isinstance(value, list) and value else value for name, value in given.items()}
    return {name: value for name, value in given.items() if value != ""}


def parse_query(model: type[M], args: Mapping[str, Any] | None = None) -> M:
    """`args` (default: this request's query string) read by `model`; RequestInvalid (422) names
    the first problem."""
    try:
        return model.model_validate(_given(request.args if args is None else args))
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {}
        loc = first.get("loc", ())
        raise RequestInvalid(first_problem(exc), field=str(loc[0]) if loc else None,
                             problem=_sentence(str(first.get("msg", "")))) from None


_DAY = TypeAdapter(Day)


def path_day(raw: str) -> date:
    """A day in a URL path (`/settlements/{video_id}/{day}`), checked as the query models' days are."""
    try:
        return _DAY.validate_python(raw[:40])
    except ValidationError as exc:
        raise RequestInvalid("day: " + first_problem(exc).partition(": ")[2], field="day") from None
