"""Money commands of the `paysystem` command line (§13): finalize a month, check the ledger."""

from __future__ import annotations

import sys

import click

from jobs.cli import _settings
from jobs.engine import engine_for
from models.errors import DomainError


@click.command("finalize")
@click.option("--month", required=True, metavar="YYYY-MM", help="The month to finalize, e.g. 2026-11.")
def finalize_command(month: str) -> None:
    """Finalize a month's statements (once; refused with the reason unless every day is final)."""
    from models.money.statements import finalize_month

    settings = _settings()
    try:
        result = finalize_month(engine_for(settings.database_url), month, settings.tz)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    if result.finalized:
        click.echo(f"{month}: finalized {result.statements} statements, earnings {result.earnings:,} won")
    else:
        click.echo(f"{month}: already final, nothing to do")


@click.command("ledger-check")
def ledger_check_command() -> None:
    """Verify every ledger invariant; exit 1 with one line per broken one."""
    from models.money.ledger import check

    settings = _settings()
    with engine_for(settings.database_url).connect() as conn:
        problems = check(conn)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(1)
    click.echo("ledger: every invariant holds")


@click.command("rotate-payout-key")
def rotate_payout_key_command() -> None:
    """Re-encrypt every stored payout account number with the first PAYOUT_DETAILS_KEY."""
    from sqlalchemy.orm import Session

    from models.money.payout_details import account_cipher, rotate_account_keys

    settings = _settings()
    with Session(bind=engine_for(settings.database_url)) as session:
        try:
            count = rotate_account_keys(session, account_cipher(settings.payout_details_keys, settings.secret_key))
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
    click.echo(f"re-encrypted {count} account numbers with the first key")


COMMANDS = [finalize_command, ledger_check_command, rotate_payout_key_command]
