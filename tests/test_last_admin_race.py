"""Defect 9 of issue 13: two admins demoting each other at the same moment leave one admin."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from sqlalchemy import func, select, update

from models import Role, User
from models.accounts.service import create_user
from portal import create_app
from portal.database import session_factory
from tests.security_support import at_once, sqlite_settings
from tests.support import TEST_PASSWORD, drop_mysql_database, migrated_mysql_database, unique_email
from tests.watching_support import bearer

ROUNDS = 6


@pytest.fixture(params=["mariadb", "sqlite"])
def lone_admins(request, settings, tmp_path):  # type: ignore[no-untyped-def]
    """An app on a database of its own whose only admins are the two returned."""
    if request.param == "mariadb":
        url = migrated_mysql_database("paysystem_admins")
        app = create_app(replace(settings, database_url=url))
    else:
        url = None
        app = create_app(sqlite_settings(settings, tmp_path))
    with session_factory(app)() as db:
        admins = [create_user(db, email=unique_email("admin"), password=TEST_PASSWORD, role=Role.ADMIN)
                  for _ in range(2)]
        db.commit()
        for admin in admins:
            db.refresh(admin)
            db.expunge(admin)
    yield app, admins
    if url is not None:
        drop_mysql_database(url)


def test_two_admins_demoting_each_other_at_once_leave_an_admin(lone_admins):
    app, (first, second) = lone_admins
    tokens = [bearer(first, app.config["PAYSYSTEM_SETTINGS"]), bearer(second, app.config["PAYSYSTEM_SETTINGS"])]
    targets = [second.id, first.id]
    factory = session_factory(app)
    statuses: Counter = Counter()  # type: ignore[type-arg]
    for _ in range(ROUNDS):
        replies = at_once(2, lambda i: app.test_client().patch(f"/api/v1/admin/users/{targets[i]}",
                                                               json={"role": "viewer"}, headers=tokens[i]))
        statuses.update(r.status_code for r in replies)
        with factory() as db:
            admins = db.scalar(select(func.count()).select_from(User).where(User.role == Role.ADMIN))
            assert admins == 1, [r.get_json() for r in replies]
            db.execute(update(User).where(User.id.in_(targets)).values(role=Role.ADMIN))
            db.commit()
    assert set(statuses) <= {200, 401, 403, 409} and statuses[200] == ROUNDS, statuses
