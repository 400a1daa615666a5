"""``credit-registry verify-report`` and ``rotate-report-key``: signed credit reports from the
command line."""

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import typer

from api import report_signing
from api.report_signing import NotGenuine
from cli.registry import unit_of_work
from service.credit import report_keys
from service.rules.clock import SystemClock

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _jwks(source: str | None) -> dict[str, Any]:
    """The report keys: from a URL, a file, or (no source) this registry's own database."""
    if source is None:
        with unit_of_work() as session:
            return report_keys.jwks(session)
    if source.startswith("http://") and urlsplit(source).hostname not in _LOOPBACK:
        # The keys are what a verdict rests on: over plain HTTP anyone on the way could swap them.
        typer.echo(f"error: fetch the report keys over https, not {source}", err=True)
        raise typer.Exit(2)
    try:
        if source.startswith(("https://", "http://")):
            response = httpx.get(source, timeout=15, follow_redirects=False)
            response.raise_for_status()
            keys = response.json()
        else:
            keys = json.loads(Path(source).read_text(encoding="utf-8"))
    except (httpx.HTTPError, OSError, ValueError) as error:
        typer.echo(f"error: cannot read the report keys from {source}: {error}", err=True)
        raise typer.Exit(2) from None
    if not isinstance(keys, dict):
        typer.echo(f"error: {source} is not a JWK Set", err=True)
        raise typer.Exit(2)
    return keys


def _summary(claims: dict[str, Any]) -> str:
    organization, lists = claims.get("organization", {}), claims.get("lists", {})
    grade, supervision = claims.get("grade"), claims.get("supervision_class") or {}
    listed = "black list" if lists.get("black") else "red list" if lists.get("red") else "not listed"
    return "\n".join([
        f"report:       {claims.get('report_id')} issued {claims.get('issued_at')}",
        f"organization: {organization.get('code')} {organization.get('name')}",
        f"as of:        {claims.get('as_of')}",
        f"lists:        {listed}",
        f"grade:        {grade['scheme'] + ' ' + grade['grade'] if grade else 'not rated'}",
        f"supervision:  class {supervision.get('code')} ({supervision.get('name_en')})",
        f"measures:     {', '.join(m.get('code', '?') for m in claims.get('measures', [])) or 'none'}",
        f"records:      {len(claims.get('records', []))} public record(s)",
    ])


def verify_report(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="The report: its .jws text, or the API's JSON answer"),
    jwks: str = typer.Option(None, "--jwks", metavar="URL_OR_FILE",
                             help="The report keys (/.well-known/credit-report-jwks.json, or a saved copy); "
                                  "default: this registry's own database"),
) -> None:
    """Verify a signed credit report: exit 0 when genuine (with what it says), 1 when not (with why)."""
    text = file.read_text(encoding="utf-8", errors="replace")
    keys = _jwks(jwks)
    try:
        claims = report_signing.verify(report_signing.jws_of(text), keys)
    except NotGenuine as refused:
        typer.echo(f"NOT GENUINE: {refused.reason}")
        raise typer.Exit(1) from None
    kid = report_signing.kid_of(report_signing.jws_of(text))
    typer.echo(f"GENUINE: signed by the registry with key {kid}\n{_summary(claims)}")


def rotate_report_key() -> None:
    """Add a new credit report signing key. Earlier keys stop signing but stay published in
    /.well-known/credit-report-jwks.json for ever: every report they signed still verifies."""
    with unit_of_work() as session:
        kid = report_keys.rotate(session, SystemClock().now())
    typer.echo(f"new report signing key {kid}; earlier keys stay published to verify the reports they signed")
