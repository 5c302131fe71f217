"""Playback over HTTP (§4–§5), shared by the browser player and the API.

- `http`: the session endpoints' URLs and handlers, called by the plain view functions of the
  browser player (portal/watch/views.py) and of the API (portal/api/playback.py), and the
  progress reply that the API's fast path (portal/api/progress_fast_path.py) shares.

Nothing here imports the API: the arrow points from portal/api and portal/watch to here.
"""
