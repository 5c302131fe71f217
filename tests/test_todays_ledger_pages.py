"""Issue 24 through HTTP: the /videos/<id>/stats page and the API's ledger and series show
today's sessions filtered by reason (§6, §11) while the day is still live."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy.orm import Session

from models import User
from models.business_time import today
from tests.batch_support import Backend, every_kind_of_session
from tests.watching_support import bearer, sign_in


@pytest.fixture
def today_world(redis_url, tmp_path, media_root):  # type: ignore[no-untyped-def]
    from portal import create_app

    backend = Backend("mariadb", redis_url, tmp_path)
    try:
        day = today(backend.settings.tz)
        _, videos, owner_id, _ = every_kind_of_session(backend, day)
        with Session(backend.engine) as s:
            owner = s.get(User, owner_id)
            assert owner is not None
            s.expunge(owner)
        yield create_app(replace(backend.settings, media_root=media_root)), backend.settings, day, videos, owner
    finally:
        backend.close()


def test_todays_ledger_on_the_page_and_in_the_api_counts_the_filtered_sessions(today_world):
    app, settings, day, (a, _, c), owner = today_world
    client = app.test_client()
    sign_in(client, owner)
    page = client.get(f"/videos/{a}/stats")  # the 30 days ending today
    assert page.status_code == 200
    row = re.search(rf'<tr data-day="{day}">(.*?)</tr>', page.get_data(as_text=True), re.S)
    assert row is not None
    cells = re.findall(r'<td class="num"[^>]*>([^<]*)</td>', row.group(1))
    assert cells[:4] == ["5", "2", "2", "1"]  # started, counted, own video, repeat within 30 s

    api = app.test_client()
    headers = bearer(owner, settings)
    ledger = api.get(f"/api/v1/videos/{a}/ledger", headers=headers).get_json()
    assert ledger["days"][-1] == {"day": day.isoformat(), "status": "live", "started": 5, "counted": 2,
                                  "own_video": 2, "repeat_within_30s": 1, "avg_watch_seconds": 1}
    series = api.get(f"/api/v1/videos/{a}/stats", headers=headers).get_json()["days"][-1]
    assert (series["day"], series["status"], series["views"], series["watch_seconds"], series["ad_views"],
            series["rejected_own_video"], series["rejected_repeat"]) == (day.isoformat(), "live", 2, 3, 3, 2, 1)
    # A video whose only sessions today were filtered: started 1, counted 0.
    only_filtered = api.get(f"/api/v1/videos/{c}/ledger?from={day}&to={day}", headers=headers).get_json()
    assert [(d["started"], d["counted"], d["own_video"]) for d in only_filtered["days"]] == [(1, 0, 1)]
