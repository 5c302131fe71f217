"""Configuration from the environment, and the settings production refuses."""

from __future__ import annotations

import pytest

from settings import DEV_SECRET_KEY, ConfigError, Settings, generate_fernet_key


def _env(monkeypatch, **values):
    for key in ("PAYSYSTEM_ENV", "SECRET_KEY", "DATABASE_URL", "PAYSYSTEM_TIMEZONE", "OAUTH_OIDC_CLIENT_ID",
                "OAUTH_OIDC_METADATA_URL", "OAUTH_KAKAO_CLIENT_ID", "BATCH_PARTITIONS", "JWT_ALGORITHM",
                "PUBLIC_BASE_URL", "PAYOUT_DETAILS_KEY", "STATEMENT_FINALIZE_DAY", "PAYOUT_THRESHOLD_WON"):
        monkeypatch.delenv(key, raising=False)
    for key, value in values.items():
        monkeypatch.setenv(key, value)


def test_development_defaults_need_no_configuration(monkeypatch):
    _env(monkeypatch)
    settings = Settings.from_env().validate()
    assert settings.environment == "development"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.timezone == "Asia/Seoul"


def test_production_refuses_the_development_secret(monkeypatch):
    _env(monkeypatch, PAYSYSTEM_ENV="production", DATABASE_URL="mysql://u@db/paysystem")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env().validate()


def test_production_refuses_a_short_secret(monkeypatch):
    _env(monkeypatch, PAYSYSTEM_ENV="production", SECRET_KEY="short", DATABASE_URL="mysql://u@db/p")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env().validate()


def test_production_refuses_sqlite(monkeypatch):
    _env(monkeypatch, PAYSYSTEM_ENV="production", SECRET_KEY="s" * 48)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Settings.from_env().validate()


def test_production_starts_with_real_settings(monkeypatch):
    _env(monkeypatch, PAYSYSTEM_ENV="production", SECRET_KEY="s" * 48, DATABASE_URL="mysql://u@db/p",
         PUBLIC_BASE_URL="https://pay.example.com", PAYOUT_DETAILS_KEY=generate_fernet_key())
    settings = Settings.from_env().validate()
    assert settings.is_production
    assert settings.public_url("/auth/reset/x") == "https://pay.example.com/auth/reset/x"


def test_production_refuses_to_start_without_a_payout_details_key(monkeypatch):
    """Issue 20: payout account numbers are encrypted with PAYOUT_DETAILS_KEY; no silent default."""
    _env(monkeypatch, PAYSYSTEM_ENV="production", SECRET_KEY="s" * 48, DATABASE_URL="mysql://u@db/p",
         PUBLIC_BASE_URL="https://pay.example.com")
    with pytest.raises(ConfigError, match="PAYOUT_DETAILS_KEY"):
        Settings.from_env().validate()


# Ids: a generated key would name the test differently in every pytest-xdist worker.
@pytest.mark.parametrize("keys", ["not-a-key", generate_fernet_key() + ",short"], ids=["not-a-key", "key-and-short"])
def test_a_malformed_payout_details_key_is_refused(monkeypatch, keys):
    _env(monkeypatch, PAYOUT_DETAILS_KEY=keys)
    with pytest.raises(ConfigError, match="PAYOUT_DETAILS_KEY"):
        Settings.from_env().validate()


def test_a_key_list_is_read_in_order(monkeypatch):
    first, second = generate_fernet_key(), generate_fernet_key()
    _env(monkeypatch, PAYOUT_DETAILS_KEY=f"{first}, {second}", STATEMENT_FINALIZE_DAY="5", PAYOUT_THRESHOLD_WON="20000")
    settings = Settings.from_env().validate()
    assert settings.payout_details_keys == (first, second)
    assert (settings.statement_finalize_day, settings.payout_threshold_won) == (5, 20_000)


def test_production_refuses_to_start_without_a_public_base_url(monkeypatch):
    """Issue 18, item 1: links in mail come from PUBLIC_BASE_URL, so production needs it."""
    _env(monkeypatch, PAYSYSTEM_ENV="production", SECRET_KEY="s" * 48, DATABASE_URL="mysql://u@db/p")
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        Settings.from_env().validate()


@pytest.mark.parametrize("url", ["pay.example.com", "javascript:alert(1)", "https://", "https://a.b/?x=1",
                                 "https://user:pw@a.b"])
def test_a_public_base_url_that_is_no_http_address_is_refused(monkeypatch, url):
    _env(monkeypatch, PUBLIC_BASE_URL=url)
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        Settings.from_env().validate()


def test_create_app_refuses_to_start_in_production_with_dev_secret():
    from portal import create_app

    with pytest.raises(ConfigError):
        create_app(Settings(environment="production", secret_key=DEV_SECRET_KEY, database_url="mysql://u@db/p"))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"PAYSYSTEM_ENV": "staging"}, "PAYSYSTEM_ENV"),
        ({"PAYSYSTEM_TIMEZONE": "Mars/Olympus"}, "time zone"),
        ({"BATCH_PARTITIONS": "many"}, "integer"),
        ({"BATCH_PARTITIONS": "0"}, "at least 1"),
        ({"JWT_ALGORITHM": "none"}, "JWT_ALGORITHM"),
        ({"JWT_ALGORITHM": "RS256"}, "KEY_FILE"),
        ({"OAUTH_OIDC_CLIENT_ID": "abc"}, "OAUTH_OIDC_METADATA_URL"),
    ],
)
def test_bad_values_are_refused_with_a_message(monkeypatch, values, message):
    _env(monkeypatch, **values)
    with pytest.raises(ConfigError, match=message):
        Settings.from_env().validate()


def test_oauth_providers_are_enabled_by_their_client_id(monkeypatch):
    _env(monkeypatch, OAUTH_KAKAO_CLIENT_ID="kakao-id")
    monkeypatch.setenv("OAUTH_KAKAO_CLIENT_SECRET", "kakao-secret")
    providers = {p.name: p for p in Settings.from_env().oauth_providers}
    assert set(providers) == {"kakao"}
    assert not providers["kakao"].is_oidc
    assert providers["kakao"].authorize_url.startswith("https://kauth.kakao.com/")


def test_every_variable_the_settings_and_gunicorn_read_is_documented():
    import re

    from settings import PROJECT_ROOT

    source = (PROJECT_ROOT / "paysystem" / "config.py").read_text() + (PROJECT_ROOT / "gunicorn.conf.py").read_text()
    documented = (PROJECT_ROOT / ".env.example").read_text()
    names = set(re.findall(r'_env\("([A-Z_]+)"', source)) | set(re.findall(r'environ\.get\("([A-Z_]+)"', source))
    names |= {f"OAUTH_{p}_CLIENT_ID" for p in ("GOOGLE", "KAKAO", "NAVER")}
    missing = sorted(name for name in names if name not in documented)
    assert not missing, f"add these to .env.example: {missing}"
