"""Moved to the `settings` package, a leaf every layer may import; kept as an alias so code
written against the old name still runs. New code imports `settings`."""

from settings import *  # noqa: F401,F403
from settings import PROJECT_ROOT, ConfigError, OAuthProvider, Settings, load_settings  # noqa: F401
