"""Playback over HTTP (§4–§5): one package for the browser player's and the API's endpoints.

- `http`: the session endpoints as handlers, registered on a blueprint with its own guard
  (the browser player in portal/watch, the API in `api`), and the progress reply both share;
- `api`: registers them on the JSON API (bearer token), progress included, so `url_for`
  and the API's description know every route;
- `fast_path`: the WSGI layer that answers the API's progress reports in front of Flask
  (the hottest endpoint), with the same token check, reply and error shape.
"""
