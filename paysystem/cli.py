"""The `paysystem` command line: migrate, create an admin, seed the demo, run the services."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import click

from jobs.cli import DATE as DATE_PARAM
from settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from models import User


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration error: {exc}") from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """PaySystem: statistics and settlement portal of a video streaming platform."""


@cli.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def migrate(revision: str) -> None:
    """Bring the database schema up to date (alembic upgrade)."""
    from paysystem import migrate as migrations

    settings = _settings()
    _ensure_sqlite_dir(settings)
    try:
        migrations.upgrade(settings.database_url, revision)
    except Exception as exc:
        raise click.ClickException(f"migration failed: {exc}") from exc
    click.echo(f"database is at revision {revision}")


@cli.command("build-static")
def build_static() -> None:
    """Build the static files: content-hashed names and .br/.gz copies (portal/assets.py)."""
    from portal.assets import build

    current = build(_settings())
    click.echo(f"{len(current.urls)} static files built in {current.root}")


def _change_account(email: str, change: Callable[[Session, User], object]) -> User:
    """Apply `change` (a committing service function) to the account with this e-mail."""
    from models.accounts.service import AccountError, find_user_by_email
    from models.db import make_engine, make_sessionmaker

    settings = _settings()
    factory = make_sessionmaker(make_engine(settings.database_url))
    with factory() as session:
        try:
            user = find_user_by_email(session, email)
            if user is None:
                raise AccountError(f"there is no account with e-mail {email.strip().lower()}")
            change(session, user)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
        session.expunge(user)
        return user


def _set_active(email: str, active: bool) -> None:
    from models.accounts.service import set_active

    user = _change_account(email, lambda session, user: set_active(session, user, active))
    click.echo(f"{user.email} is {'active' if active else 'deactivated'} (id {user.id})")


@cli.command()
@click.option("--email", required=True, help="E-mail address of the account.")
def deactivate(email: str) -> None:
    """Switch an account off: its sessions end and its API tokens stop working; its views and
    money history stay. The last active admin cannot be switched off."""
    _set_active(email, False)


@cli.command()
@click.option("--email", required=True, help="E-mail address of the account.")
def reactivate(email: str) -> None:
    """Switch an account on again (it signs in afresh: no earlier session comes back)."""
    _set_active(email, True)


@cli.command("create-admin")
@click.option("--email", required=True, help="E-mail address of the new admin.")
@click.option("--name", default=None, help="Display name (default: the e-mail's local part).")
@click.password_option(help="Password (asked for when not given).")
def create_admin(email: str, name: str | None, password: str) -> None:
    """Create an admin account; the first admin can only be made this way."""
    from models import Role
    from models.accounts.service import AccountError, create_user
    from models.db import make_engine, make_sessionmaker, session_scope

    settings = _settings()
    factory = make_sessionmaker(make_engine(settings.database_url))
    try:
        with session_scope(factory) as session:
            user = create_user(session, email=email, password=password, role=Role.ADMIN, display_name=name)
            user_id, address = user.id, user.email
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"admin {address} created (id {user_id})")


@cli.command("set-role")
@click.option("--email", required=True, help="E-mail address of the account.")
@click.option("--role", required=True, type=click.Choice(["viewer", "seller", "admin"]), help="The new role.")
def set_role(email: str, role: str) -> None:
    """Change an account's role (e.g. make an existing user an admin)."""
    from models import Role
    from models.accounts.service import change_role

    user = _change_account(email, lambda session, user: change_role(session, user, Role(role)))
    click.echo(f"{user.email} is now {role}")


@cli.command("seed-demo")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 366))
def seed_demo_command(days: int) -> None:
    """Load demo accounts, media and 30 days of activity (skipped when already there)."""
    from models.business_time import today
    from models.db import make_engine, make_sessionmaker, session_scope
    from paysystem.demo import ACCOUNTS, DEMO_PASSWORD, demo_window, seed_demo

    settings = _settings()
    factory = make_sessionmaker(make_engine(settings.database_url))
    first, _ = demo_window(settings.tz, days)  # from the first of a month: its months can be final
    with session_scope(factory) as session:
        created = seed_demo(session, settings.media_root, settings.tz, days=(today(settings.tz) - first).days)
    if not created:
        click.echo("demo data already present; nothing changed")
        return
    _compute_demo_days(settings, days)
    click.echo(f"demo data created; accounts (password: {DEMO_PASSWORD}):")
    for account in ACCOUNTS:
        click.echo(f"  {account.role.value:<7} {account.email}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-demo", is_flag=True, help="Do not seed demo data.")
def up(host: str, port: int, no_demo: bool) -> None:
    """Migrate, seed the demo and run portal, worker and scheduler until Ctrl-C."""
    from paysystem.launcher import run_all

    sys.exit(run_all(host=host, port=port, seed=not no_demo))


def _compute_demo_days(settings: Settings, days: int) -> None:
    """Run the batch inline for the seeded closed days, so the demo opens with final figures."""
    from datetime import timedelta

    from jobs.inline import run_days_inline
    from models.batch.tables import RunTrigger
    from models.business_time import days_between, today
    from paysystem.demo import demo_window, settle_demo_months

    first, yesterday = demo_window(settings.tz, days)
    results = run_days_inline(settings, days_between(first, yesterday), RunTrigger.BACKFILL)
    failed = [r for r in results if r.state.value != "succeeded"]
    if failed:
        raise click.ClickException(f"the batch failed for {len(failed)} demo day(s); see `paysystem retry`")
    click.echo(f"batch computed {len(results)} demo days")
    for line in settle_demo_months(settings, first, yesterday):
        click.echo(line)
    # Late plays of a computed day of the last final month, and its re-run: the demo shows a
    # restatement (§9) and the adjustment it adds to the current, estimated month (§13).
    from models.db import make_engine, make_sessionmaker, session_scope
    from paysystem.demo import add_late_plays

    with session_scope(make_sessionmaker(make_engine(settings.database_url))) as session:
        late_day = add_late_plays(session, settings.tz, day=today(settings.tz).replace(day=1) - timedelta(days=2))
    run_days_inline(settings, [late_day], RunTrigger.MANUAL)
    click.echo(f"late plays of {late_day} restated")


def _ensure_sqlite_dir(settings: Settings) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        from pathlib import Path

        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


@cli.command("generate")
@click.option("--videos", default=10_000, show_default=True, type=int)
@click.option("--sellers", default=1_000, show_default=True, type=int)
@click.option("--viewers", default=100_000, show_default=True, type=int)
@click.option("--days", default=30, show_default=True, type=int)
@click.option("--sessions", default=3_000_000, show_default=True, type=int)
@click.option("--ad-views", "ad_views", default=3_000_000, show_default=True, type=int)
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same data.")
@click.option("--last-day", type=DATE_PARAM, default=None, help="Last generated day (default: yesterday).")
def generate_command(videos: int, sellers: int, viewers: int, days: int, sessions: int, ad_views: int,
                     seed: int, last_day: date | None) -> None:
    """Write synthetic users, videos, play sessions and ad views (for benchmarks and trials)."""
    import time

    from tqdm import tqdm

    from jobs.engine import engine_for
    from paysystem.synthetic_data import GenerateError, GenerateSpec, default_last_day, generate

    settings = _settings()
    spec = GenerateSpec(videos, sellers, viewers, days, sessions, ad_views, seed,
                        last_day or default_last_day(settings.tz))
    started = time.perf_counter()
    try:
        with tqdm(total=days + 1, unit="step", desc="generate") as bar:
            result = generate(engine_for(settings.database_url), spec, settings.tz,
                              progress=lambda _what, _n: bar.update(1))
    except GenerateError as exc:
        raise click.ClickException(str(exc)) from exc
    elapsed = time.perf_counter() - started
    click.echo(f"generated {result.users} users, {result.videos} videos, {result.sessions} play sessions and "
               f"{result.ad_views} ad views for {result.first_day} to {result.last_day} in {elapsed:.1f} s")


def _register_job_commands() -> None:
    from jobs.cli import COMMANDS
    from jobs.money_cli import COMMANDS as MONEY_COMMANDS

    for command in COMMANDS + MONEY_COMMANDS:
        cli.add_command(command)


_register_job_commands()


def main() -> None:
    cli(prog_name="paysystem")
