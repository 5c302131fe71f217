"""Settings read from environment variables.

Every value has a development default so a first look needs no configuration, and
`validate()` refuses the defaults that would be unsafe in production (the development
secret above all). Portal, jobs and the CLI all read the same `Settings`.

This package is the bottom of the house: it imports nothing of ours, so models/, jobs/,
portal/ and the command line may all import it (tests/test_layers.py keeps it so).
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-secret-change-me"
# Where `paysystem up` / scripts/demo.sh serve the portal by default (development links in mail).
DEV_PUBLIC_BASE_URL = "http://127.0.0.1:5000"
ENVIRONMENTS = ("development", "test", "production")


class ConfigError(RuntimeError):
    """Configuration that must not be run with; the message says what to change."""


@dataclass(frozen=True)
class OAuthProvider:
    """One social-login provider switched on by configuration."""

    name: str
    client_id: str
    client_secret: str
    # OpenID Connect providers are configured by their discovery document; plain OAuth 2
    # providers (Kakao, Naver) by explicit endpoints.
    server_metadata_url: str | None = None
    authorize_url: str | None = None
    access_token_url: str | None = None
    userinfo_url: str | None = None
    scope: str = "openid email profile"
    label: str = ""

    @property
    def is_oidc(self) -> bool:
        return self.server_metadata_url is not None


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def _int_env(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _int_list_env(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = _env(name, ",".join(map(str, default)))
    try:
        return tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise ConfigError(f"{name} must be comma-separated integers, got {raw!r}") from exc


def _date_env(name: str, default: date) -> date:
    raw = _env(name, default.isoformat())
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a date (YYYY-MM-DD), got {raw!r}") from exc


def _bool_env(name: str, default: bool) -> bool:
    raw = _env(name, "1" if default else "0").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


# Presets: the endpoints are public facts of each provider; only the credentials come from env.
_PRESETS: dict[str, dict[str, str]] = {
    "google": {
        "label": "Google",
        "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration",
        "scope": "openid email profile",
    },
    "kakao": {
        "label": "Kakao",
        "authorize_url": "https://kauth.kakao.com/oauth/authorize",
        "access_token_url": "https://kauth.kakao.com/oauth/token",
        "userinfo_url": "https://kapi.kakao.com/v2/user/me",
        "scope": "account_email profile_nickname",
    },
    "naver": {
        "label": "Naver",
        "authorize_url": "https://nid.naver.com/oauth2.0/authorize",
        "access_token_url": "https://nid.naver.com/oauth2.0/token",
        "userinfo_url": "https://openapi.naver.com/v1/nid/me",
        "scope": "",
    },
}


def _oauth_providers() -> tuple[OAuthProvider, ...]:
    providers: list[OAuthProvider] = []
    for name, preset in _PRESETS.items():
        prefix = f"OAUTH_{name.upper()}_"
        client_id = os.environ.get(prefix + "CLIENT_ID", "")
        if not client_id:
            continue
        providers.append(
            OAuthProvider(
                name=name,
                client_id=client_id,
                client_secret=os.environ.get(prefix + "CLIENT_SECRET", ""),
                server_metadata_url=_env(prefix + "METADATA_URL", preset.get("server_metadata_url", "")) or None,
                authorize_url=_env(prefix + "AUTHORIZE_URL", preset.get("authorize_url", "")) or None,
                access_token_url=_env(prefix + "TOKEN_URL", preset.get("access_token_url", "")) or None,
                userinfo_url=_env(prefix + "USERINFO_URL", preset.get("userinfo_url", "")) or None,
                scope=_env(prefix + "SCOPE", preset.get("scope", "")),
                label=preset["label"],
            )
        )
    # Any other OpenID Connect provider, configured by its discovery document.
    oidc_id = os.environ.get("OAUTH_OIDC_CLIENT_ID", "")
    if oidc_id:
        metadata = os.environ.get("OAUTH_OIDC_METADATA_URL", "")
        if not metadata:
            raise ConfigError("OAUTH_OIDC_METADATA_URL is required when OAUTH_OIDC_CLIENT_ID is set")
        providers.append(
            OAuthProvider(
                name=_env("OAUTH_OIDC_NAME", "oidc"),
                client_id=oidc_id,
                client_secret=os.environ.get("OAUTH_OIDC_CLIENT_SECRET", ""),
                server_metadata_url=metadata,
                scope=_env("OAUTH_OIDC_SCOPE", "openid email profile"),
                label=_env("OAUTH_OIDC_LABEL", "Single sign-on"),
            )
        )
    return tuple(providers)


def _check_rate_limit(name: str, value: str) -> None:
    from limits import parse_many

    try:
        parsed = parse_many(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must look like '5 per 15 minutes', got {value!r}") from exc
    if not parsed:
        raise ConfigError(f"{name} must look like '5 per 15 minutes', got {value!r}")


def default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'paysystem.db'}"


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    database_url: str = field(default_factory=default_database_url)
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Issue 23: the RQ queues and the cache (figures, answers, limits, revocations) may live on
    # separate Redis instances; "" means REDIS_URL (see queue_redis_url / cache_redis_url).
    redis_queue_url: str = ""
    redis_cache_url: str = ""
    # A MariaDB replica for the read-only seller pages and stats API ("" = none), used only
    # while it replicates, is at most this many seconds behind and holds the last finished run.
    database_read_url: str = ""
    read_replica_max_lag_seconds: int = 30
    secret_key: str = DEV_SECRET_KEY
    timezone: str = "Asia/Seoul"
    media_root: Path = PROJECT_ROOT / "var" / "media"
    max_upload_mb: int = 512
    # What an uploaded file may hold (models/catalog/media.py MediaLimits): its duration as measured from
    # its packets (a video's ad slots follow it: 4 h, 48 slots), an ad's, and the pixels of one
    # picture (3840×2160), checked before any picture is decoded.
    max_video_seconds: int = 4 * 3600
    max_ad_seconds: int = 300
    max_video_pixels: int = 3840 * 2160
    # Ads are spread by how often each was picked over this many recent hours, not over their
    # lifetime (models/playback/ad_rotation.py), so a new ad shares the breaks instead of taking them all.
    ad_balance_window_hours: int = 24
    # Every request body except uploads (portal/body_limits.py).
    max_body_kb: int = 1024
    # Where installed third-party browser code lives (npm package / plotly wheel).
    node_modules: Path = PROJECT_ROOT / "node_modules"
    # Built static files (content-hashed, precompressed; portal/assets.py).
    static_build_dir: Path = PROJECT_ROOT / "var" / "static"
    # Every absolute link the portal hands out (mail, OAuth redirect URIs) starts with this,
    # never with the request's Host header, which a client chooses (issue 18, item 1).
    # Production refuses to start without it; development defaults to the launcher's address.
    public_base_url: str = DEV_PUBLIC_BASE_URL
    jwt_algorithm: str = "HS256"
    jwt_private_key_file: str = ""
    jwt_public_key_file: str = ""
    jwt_ttl_seconds: int = 3600
    login_limit_per_account: str = "5 per 15 minutes"
    login_limit_per_ip: str = "20 per 15 minutes"
    # Sign-up forms sent from one client address (every attempt counts): bounds how fast
    # anyone can probe which e-mails are registered.
    signup_limit_per_ip: str = "20 per hour"
    # "Forgot password" requests per client IP (each account also gets at most 3 links an hour).
    forgot_limit_per_ip: str = "10 per hour"
    # Reverse proxies in front of the portal whose X-Forwarded-* headers are trusted (client IP
    # for the per-IP sign-in limit, https scheme for OAuth redirect URIs).
    trusted_proxy_hops: int = 0
    batch_partitions: int = 4
    batch_queue: str = "batch"
    nightly_time: str = "00:30"
    # Attempts after the first for a batch step that failed transiently, and the waits between them.
    batch_retries: int = 3
    batch_retry_delays: tuple[int, ...] = (5, 30, 120)
    # How long a partition waits for a row lock before failing (and being retried).
    batch_lock_wait_seconds: int = 60
    oauth_providers: tuple[OAuthProvider, ...] = ()
    # Operations (issue 12): by this hour (business time) yesterday's nightly run must have
    # succeeded, or `GET /healthz/batch` answers 503.
    batch_health_deadline: str = "06:00"
    # `/metrics`: readable with `Authorization: Bearer <METRICS_TOKEN>` and/or from these
    # networks (comma-separated CIDRs); with neither set only signed-in admins read it.
    metrics_token: str = ""
    metrics_networks: tuple[str, ...] = ()
    # Tests and demos: fire the nightly job every this many seconds instead of at NIGHTLY_TIME.
    nightly_interval_seconds: int = 0
    # Outgoing e-mail (password-reset links). Without SMTP_HOST the mail is written to the log.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "PaySystem <no-reply@paysystem.invalid>"
    # The portal keeps a day range's data statuses this long per process (models/figures/status_memo.py):
    # the most a shown status may lag the database. 0: asked on every request. Rendered
    # dashboards are kept as long (portal/seller_portal/views.py `dashboard`).
    figure_status_ttl_seconds: int = 5
    # spectree checks every API answer against its response model: on in development and tests
    # (a view that breaks its documented shape fails there), off in production by default,
    # where it only costs time (request validation always runs).
    api_validate_responses: bool = True
    # The days a request, plan or batch command may name (models/figures/date_window.py): from DATE_MIN
    # to today + DATE_MAX_YEARS_AHEAD years; anything else is refused (422 / form error).
    date_min: date = date(2000, 1, 1)
    date_max_years_ahead: int = 100
    # Statements (§13): a month is finalized on this day of the next month at 03:00 business time.
    statement_finalize_day: int = 10
    # The smallest balance paid out (whole won); smaller balances are carried forward.
    payout_threshold_won: int = 10_000
    # Fernet keys (comma-separated, urlsafe base64 of 32 bytes) for payout account numbers:
    # the first encrypts, every one decrypts (rotation). Empty in development/tests: a key
    # derived from SECRET_KEY is used with a warning; production refuses to start without it.
    payout_details_keys: tuple[str, ...] = ()

    @classmethod
    def from_env(cls) -> Settings:
        media_root = Path(_env("MEDIA_ROOT", str(PROJECT_ROOT / "var" / "media")))
        environment = _env("PAYSYSTEM_ENV", "development")
        return cls(
            environment=environment,
            database_url=_env("DATABASE_URL", default_database_url()),
            redis_url=_env("REDIS_URL", "redis://127.0.0.1:6379/0"),
            redis_queue_url=_env("REDIS_QUEUE_URL", ""),
            redis_cache_url=_env("REDIS_CACHE_URL", ""),
            database_read_url=_env("DATABASE_READ_URL", ""),
            read_replica_max_lag_seconds=_int_env("READ_REPLICA_MAX_LAG_SECONDS", 30),
            secret_key=_env("SECRET_KEY", DEV_SECRET_KEY),
            timezone=_env("PAYSYSTEM_TIMEZONE", "Asia/Seoul"),
            media_root=media_root,
            max_upload_mb=_int_env("MAX_UPLOAD_MB", 512),
            max_video_seconds=_int_env("MAX_VIDEO_SECONDS", 4 * 3600),
            max_ad_seconds=_int_env("MAX_AD_SECONDS", 300),
            max_video_pixels=_int_env("MAX_VIDEO_PIXELS", 3840 * 2160),
            ad_balance_window_hours=_int_env("AD_BALANCE_WINDOW_HOURS", 24),
            max_body_kb=_int_env("MAX_BODY_KB", 1024),
            node_modules=Path(_env("NODE_MODULES", str(PROJECT_ROOT / "node_modules"))),
            static_build_dir=Path(_env("STATIC_BUILD_DIR", str(PROJECT_ROOT / "var" / "static"))),
            public_base_url=_env("PUBLIC_BASE_URL", "" if environment == "production" else DEV_PUBLIC_BASE_URL),
            jwt_algorithm=_env("JWT_ALGORITHM", "HS256"),
            jwt_private_key_file=_env("JWT_PRIVATE_KEY_FILE", ""),
            jwt_public_key_file=_env("JWT_PUBLIC_KEY_FILE", ""),
            jwt_ttl_seconds=_int_env("JWT_TTL_SECONDS", 3600),
            login_limit_per_account=_env("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes"),
            login_limit_per_ip=_env("LOGIN_LIMIT_PER_IP", "20 per 15 minutes"),
            signup_limit_per_ip=_env("SIGNUP_LIMIT_PER_IP", "20 per hour"),
            forgot_limit_per_ip=_env("FORGOT_LIMIT_PER_IP", "10 per hour"),
            trusted_proxy_hops=_int_env("TRUSTED_PROXY_HOPS", 0),
            batch_partitions=_int_env("BATCH_PARTITIONS", 4),
            batch_queue=_env("BATCH_QUEUE", "batch"),
            nightly_time=_env("NIGHTLY_TIME", "00:30"),
            batch_retries=_int_env("BATCH_RETRIES", 3),
            batch_retry_delays=_int_list_env("BATCH_RETRY_DELAYS", (5, 30, 120)),
            batch_lock_wait_seconds=_int_env("BATCH_LOCK_WAIT_SECONDS", 60),
            oauth_providers=_oauth_providers(),
            batch_health_deadline=_env("BATCH_HEALTH_DEADLINE", "06:00"),
            metrics_token=_env("METRICS_TOKEN", ""),
            nightly_interval_seconds=_int_env("NIGHTLY_INTERVAL_SECONDS", 0),
            metrics_networks=tuple(n.strip() for n in _env("METRICS_NETWORKS", "").split(",") if n.strip()),
            smtp_host=_env("SMTP_HOST", ""),
            smtp_port=_int_env("SMTP_PORT", 25),
            smtp_username=_env("SMTP_USERNAME", ""),
            smtp_password=_env("SMTP_PASSWORD", ""),
            smtp_starttls=_bool_env("SMTP_STARTTLS", False),
            mail_from=_env("MAIL_FROM", "PaySystem <no-reply@paysystem.invalid>"),
            figure_status_ttl_seconds=_int_env("FIGURE_STATUS_TTL_SECONDS", 5),
            api_validate_responses=_bool_env("API_VALIDATE_RESPONSES", environment != "production"),
            date_min=_date_env("DATE_MIN", date(2000, 1, 1)),
            date_max_years_ahead=_int_env("DATE_MAX_YEARS_AHEAD", 100),
            statement_finalize_day=_int_env("STATEMENT_FINALIZE_DAY", 10),
            payout_threshold_won=_int_env("PAYOUT_THRESHOLD_WON", 10_000),
            payout_details_keys=tuple(k.strip() for k in _env("PAYOUT_DETAILS_KEY", "").split(",") if k.strip()),
        )

    def public_url(self, path: str) -> str:
        """An absolute link to `path` (starting with "/") on PUBLIC_BASE_URL."""
        return self.public_base_url.rstrip("/") + path

    @property
    def queue_redis_url(self) -> str:
        """The Redis of the RQ queues (and rq-scheduler): REDIS_QUEUE_URL, else REDIS_URL."""
        return self.redis_queue_url or self.redis_url

    @property
    def cache_redis_url(self) -> str:
        """The Redis of figures, cached answers, rate limits and token revocations:
        REDIS_CACHE_URL, else REDIS_URL. RQ needs one plain Redis; the cache can grow apart."""
        return self.redis_cache_url or self.redis_url

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def validate(self) -> Settings:
        """Refuse settings that would be unsafe or cannot work; returns self for chaining."""
        if self.environment not in ENVIRONMENTS:
            raise ConfigError(
                f"PAYSYSTEM_ENV must be one of {', '.join(ENVIRONMENTS)}, got {self.environment!r}"
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"PAYSYSTEM_TIMEZONE {self.timezone!r} is not a known IANA time zone") from exc
        if self.jwt_algorithm not in ("HS256", "RS256"):
            raise ConfigError(f"JWT_ALGORITHM must be HS256 or RS256, got {self.jwt_algorithm!r}")
        if self.jwt_algorithm == "RS256" and not (self.jwt_private_key_file and self.jwt_public_key_file):
            raise ConfigError("JWT_ALGORITHM=RS256 needs JWT_PRIVATE_KEY_FILE and JWT_PUBLIC_KEY_FILE")
        if self.batch_partitions < 1:
            raise ConfigError("BATCH_PARTITIONS must be at least 1")
        if self.batch_retries < 0:
            raise ConfigError("BATCH_RETRIES cannot be negative")
        if any(d < 0 for d in self.batch_retry_delays):
            raise ConfigError("BATCH_RETRY_DELAYS cannot contain negative numbers")
        if self.batch_lock_wait_seconds < 1:
            raise ConfigError("BATCH_LOCK_WAIT_SECONDS must be at least 1")
        if self.max_upload_mb < 1:
            raise ConfigError("MAX_UPLOAD_MB must be at least 1")
        for name, value in (("MAX_VIDEO_SECONDS", self.max_video_seconds), ("MAX_AD_SECONDS", self.max_ad_seconds),
                            ("MAX_VIDEO_PIXELS", self.max_video_pixels),
                            ("AD_BALANCE_WINDOW_HOURS", self.ad_balance_window_hours)):
            if value < 1:
                raise ConfigError(f"{name} must be at least 1")
        if self.max_body_kb < 1:
            raise ConfigError("MAX_BODY_KB must be at least 1")
        if self.jwt_ttl_seconds < 60:
            raise ConfigError("JWT_TTL_SECONDS must be at least 60")
        if self.read_replica_max_lag_seconds < 0:
            raise ConfigError("READ_REPLICA_MAX_LAG_SECONDS cannot be negative")
        if not 0 <= self.figure_status_ttl_seconds <= 60:
            raise ConfigError("FIGURE_STATUS_TTL_SECONDS must be from 0 to 60 (a status may lag the data that long)")
        for name, value in (
            ("LOGIN_LIMIT_PER_ACCOUNT", self.login_limit_per_account),
            ("LOGIN_LIMIT_PER_IP", self.login_limit_per_ip),
            ("SIGNUP_LIMIT_PER_IP", self.signup_limit_per_ip),
            ("FORGOT_LIMIT_PER_IP", self.forgot_limit_per_ip),
        ):
            _check_rate_limit(name, value)
        if not date(1900, 1, 1) <= self.date_min <= date(2100, 1, 1):
            raise ConfigError(f"DATE_MIN must be from 1900-01-01 to 2100-01-01, got {self.date_min.isoformat()}")
        if not 1 <= self.date_max_years_ahead <= 500:
            raise ConfigError("DATE_MAX_YEARS_AHEAD must be from 1 to 500")
        if self.trusted_proxy_hops < 0:
            raise ConfigError("TRUSTED_PROXY_HOPS must be 0 or more")
        hh, _, mm = self.nightly_time.partition(":")
        if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
            raise ConfigError(f"NIGHTLY_TIME must be HH:MM, got {self.nightly_time!r}")
        hh, _, mm = self.batch_health_deadline.partition(":")
        if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
            raise ConfigError(f"BATCH_HEALTH_DEADLINE must be HH:MM, got {self.batch_health_deadline!r}")
        if not 1 <= self.statement_finalize_day <= 28:
            raise ConfigError("STATEMENT_FINALIZE_DAY must be from 1 to 28 (a day every month has)")
        if self.payout_threshold_won < 1:
            raise ConfigError("PAYOUT_THRESHOLD_WON must be at least 1 won")
        for key in self.payout_details_keys:
            _check_fernet_key(key)
        for network in self.metrics_networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as exc:
                raise ConfigError(f"METRICS_NETWORKS: {network!r} is not an IP network (CIDR)") from exc
        if self.is_production:
            if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
                raise ConfigError(
                    "SECRET_KEY must be set to a random value of at least 32 characters in production "
                    "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            if self.database_url.startswith("sqlite"):
                raise ConfigError("DATABASE_URL must point to MySQL/MariaDB in production, not SQLite")
            if not self.public_base_url:
                raise ConfigError("PUBLIC_BASE_URL must be set in production (e.g. https://pay.example.com): "
                                  "links in mail are built from it")
            if not self.payout_details_keys:
                raise ConfigError("PAYOUT_DETAILS_KEY must be set in production (payout account numbers are "
                                  "encrypted with it); make one with: python -c 'from cryptography.fernet "
                                  "import Fernet; print(Fernet.generate_key().decode())'")
        _check_public_base_url(self.public_base_url)
        return self


def generate_fernet_key() -> str:
    """A fresh PAYOUT_DETAILS_KEY value (what cryptography's Fernet.generate_key makes)."""
    import base64

    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _check_fernet_key(key: str) -> None:
    """A Fernet key is 32 bytes in urlsafe base64 (checked here without importing cryptography)."""
    import base64
    import binascii

    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise ConfigError("PAYOUT_DETAILS_KEY: every key must be urlsafe base64 of 32 bytes (Fernet)") from exc
    if len(raw) != 32:
        raise ConfigError("PAYOUT_DETAILS_KEY: every key must be urlsafe base64 of 32 bytes (Fernet)")


def _check_public_base_url(url: str) -> None:
    """PUBLIC_BASE_URL is an http(s) origin, optionally with a path prefix; nothing else."""
    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment \
            or parts.username or parts.password:
        raise ConfigError(f"PUBLIC_BASE_URL must be an http(s) address like https://pay.example.com, got {url!r}")


def load_settings() -> Settings:
    """Settings from the environment (and a `.env` file in the project root when present)."""
    env_file = PROJECT_ROOT / ".env"
    if env_file.exists():
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False)
    return Settings.from_env().validate()
