"""Whose money a statements page or a money API call shows (§13): one rule for both.

A seller sees their own (naming their own id is allowed, anybody else's is "no such seller", so
a forged id tells nothing about who exists); an admin must name a seller by `seller_id`.
"""

from __future__ import annotations

from models import Role, User
from models.errors import NotFound
from portal.database import db_session
from portal.queries.parse import RequestInvalid

NO_SUCH_SELLER = "There is no such seller."


def statement_subject(caller: User, requested: int | None) -> User:
    """The seller `caller` asks about with `requested` (the query's `seller_id`)."""
    if caller.role != Role.ADMIN:
        if requested is not None and requested != caller.id:
            raise NotFound(NO_SUCH_SELLER)
        return caller
    if requested is None:
        raise RequestInvalid("seller_id: admins name the seller (the operations console lists the statements).",
                             field="seller_id")
    seller = db_session().get(User, requested)
    if seller is None or seller.role != Role.SELLER:
        raise NotFound(NO_SUCH_SELLER)
    return seller
