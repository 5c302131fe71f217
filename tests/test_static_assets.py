"""Static files (issue 21, item 8): named by content, cached for good, precompressed; the chart
library is plotly.js's partial bundle; HTML and JSON answers are compressed when asked."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import replace

import brotli

from portal import assets
from portal.seller_portal import charts

HASHED = re.compile(r'(?:src|href)="(/static/[^"]+)"')


def _static_urls(client, path: str = "/") -> list[str]:  # type: ignore[no-untyped-def]
    return HASHED.findall(client.get(path).get_data(as_text=True))


def test_pages_name_static_files_by_content_and_browsers_keep_them_for_good(client):
    urls = _static_urls(client)
    assert any("/vendor/htmx.min." in url for url in urls) and any("/css/app." in url for url in urls)
    for url in urls:
        assert re.search(r"\.[0-9a-f]{12}\.(js|css)$", url), url
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert "immutable" in answer.headers["Cache-Control"] and "max-age=" in answer.headers["Cache-Control"]
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert "Access-Control-Allow-Origin" not in answer.headers


def test_static_files_come_precompressed_in_the_encoding_the_browser_takes(client):
    url = next(u for u in _static_urls(client) if "/vendor/htmx.min." in u)
    plain = client.get(url).data
    br = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["Content-Encoding"] == "br" and "Accept-Encoding" in br.headers["Vary"]
    assert len(br.data) < len(plain) / 2 and brotli.decompress(br.data) == plain
    gz = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.data) == plain


def test_the_chart_library_is_plotlys_partial_bundle(app, client, make_user):
    from models import Role
    from tests.support import TEST_PASSWORD

    seller = make_user(Role.SELLER)
    page = client.get("/auth/signin").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.post("/auth/signin", data={"csrf_token": token, "email": seller.email, "password": TEST_PASSWORD})
    url = next(u for u in _static_urls(client, "/dashboard") if "/vendor/plotly.min." in u)
    library = client.get(url).data
    assert library.startswith(b"/**\n* plotly.js (basic - minified)")
    assert len(library) < 1_500_000  # the whole library is 4.8 MB
    compressed = client.get(url, headers={"Accept-Encoding": "br"})
    assert len(compressed.data) < 400_000


def test_only_built_files_are_served(client):
    for path in ("/static/vendor/jquery.js", "/static/css/app.css", "/static/manifest.json",
                 "/static/../settings/__init__.py", "/static/vendor/plotly.min.js"):
        assert client.get(path).status_code == 404, path


def test_a_changed_file_gets_a_new_name_and_the_old_one_stays(settings, tmp_path):
    modules = tmp_path / "node_modules"
    htmx = modules / "htmx.org" / "dist" / "htmx.min.js"
    htmx.parent.mkdir(parents=True)
    htmx.write_text("/* htmx one */" + "x" * 2000)
    local = replace(settings, node_modules=modules, static_build_dir=tmp_path / "build")
    first = assets.load(local)
    assert first.url("vendor/htmx.min.js") == assets.load(local).url("vendor/htmx.min.js")  # stable
    htmx.write_text("/* htmx two */" + "y" * 2000)
    second = assets.load(local)  # the app start finds the source changed and builds again
    old, new = first.url("vendor/htmx.min.js"), second.url("vendor/htmx.min.js")
    assert old != new
    for url in (old, new):
        assert (second.root / url.removeprefix("/static/")).is_file()
    assert (second.root / (new.removeprefix("/static/") + ".gz")).is_file()
    # Packages npm did not install are not served (a URL that answers 404), not a crash.
    assert second.url("vendor/plotly.min.js") == "/static/missing/vendor/plotly.min.js"


def test_html_and_json_answers_are_compressed_when_asked(client):
    page = client.get("/videos", headers={"Accept-Encoding": "br"})
    assert page.status_code == 200 and page.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in page.headers["Vary"]
    assert b"<html" in brotli.decompress(page.data)
    document = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert document.headers["Content-Encoding"] == "gzip"
    assert "paths" in json.loads(gzip.decompress(document.data))
    assert "Content-Encoding" not in client.get("/videos").headers  # nobody asked


def test_charts_carry_no_plotly_template():
    """plotly.py's template added ~20 KB to every chart; plotly.js's defaults look the same."""
    top = {"metric": "views", "items": [{"rank": 1, "video_id": 1, "title": "a", "value": 3}]}
    figure = json.loads(charts.top5_figure(top))
    assert "template" not in figure["layout"]
    assert len(charts.top5_figure(top)) < 3_000
