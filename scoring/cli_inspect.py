"""`gongkai collect poll` and `gongkai inspect`: the website inspection (網站檢查) — thin typer
commands over `scoring.workflows.inspection` (registered by scoring/cli.py; its helpers are read at
call time)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer

from scoring.errors import GongkaiError

Db = Annotated[str | None, typer.Option("--db", help="database URL (default: GONGKAI_DATABASE_URL or data/local/gongkai.db)")]
SchemeId = Annotated[str | None, typer.Option("--scheme", help="scheme id (may be left out when one is stored)")]


def _cli():
    from scoring import cli

    return cli


def _at(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise GongkaiError(f"--at {text!r} is not a date-time (2017-06-01T08:30, with an offset or in the "
                           "scheme's timezone)") from None


def collect_poll(
    body: Annotated[str, typer.Option("--body", help="body id")],
    site: Annotated[str, typer.Option("--site", help="the website's address, http(s)://…")],
    at: Annotated[str | None, typer.Option("--at", help="the observation's time (default: now), for a replayed schedule")] = None,
    scheme: SchemeId = None,
    allow_private: Annotated[bool, typer.Option("--allow-private", help="allow loopback and private addresses (admin, evaluator)")] = False,
    db: Db = None,
) -> None:
    """One inspection observation: the home page and its columns, fetched now and archived (WARC)."""
    from scoring.workflows import inspection as workflows_inspect

    cli = _cli()
    r = workflows_inspect.poll(db, actor=cli._actor(db), body=body, site=site, at=_at(at), scheme_id=scheme,
                               allow_private=allow_private)
    print(f"poll {r.id}: home page {'loaded' if r.loaded else 'did not load'} in {r.elapsed:.2f} s; "
          f"{cli.count(r.columns, 'column')}, {r.failed_columns} did not load")


def inspect_cmd(
    body: Annotated[str | None, typer.Option("--body", help="body id (default: every polled site)")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="inspection date YYYY-MM-DD (default: today)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
    criteria: Annotated[Path | None, typer.Option("--criteria", help="the indicators file (default: criteria/website-2019.yaml)")] = None,
    as_evidence: Annotated[bool, typer.Option("--as-evidence", help="import each 不合格 site as evidence of the platform obligation (6.4)")] = False,
    scheme: SchemeId = None,
    db: Db = None,
) -> None:
    """Judge each polled site against the website indicators: every check's measured value, threshold,
    result (pass / deduct N / veto) and the polls and captures behind it; the score and verdict."""
    from scoring.inspect.indicators import CRITERIA
    from scoring.intake.tables import csv_bytes, spreadsheet_safe
    from scoring.workflows import inspection as wi

    cli = _cli()
    cli._choice("--format", fmt, ("table", "csv", "json"))
    path = criteria or CRITERIA
    actor, day = cli._actor(db), cli._date(as_of)
    if as_evidence:
        failed, result = wi.to_evidence(db, actor=actor, as_of=day, body=body, scheme_id=scheme, criteria=path)
        print(f"{cli.count(len(failed), '不合格 site')} imported as evidence: {result.new} new, {result.replaced} replaced, "
              f"{result.unchanged} unchanged (batch {result.batch_id})")
        return
    inspection, day, results = wi.inspect(db, actor=actor, body=body, as_of=day, scheme_id=scheme, criteria=path)
    table = wi.findings_table(results)
    if fmt == "csv":
        sys.stdout.write(csv_bytes(spreadsheet_safe(table.astype(str))).decode("utf-8"))
    elif fmt == "json":
        sys.stdout.write(table.to_json(orient="records", force_ascii=False) + "\n")
    elif not results:
        print(f"no polls in the two weeks up to {day} (gongkai collect poll --body ID --site URL)")
    else:
        for r in results:
            j = r.judgement
            scaled = "" if r.services else f" (out of {j.out_of:g}, ×{inspection.header.total / j.out_of:.4g})"
            print(f"{r.body} {r.site} as of {day}: {wi.VERDICT_WORDS[j.verdict]} — score {j.score:.2f}{scaled}"
                  + (f"; veto: {', '.join(j.vetoes)}" if j.vetoes else ""))
            rows = table[(table["body"] == r.body) & (table["site"] == r.site)]
            cli._print_table(rows[["check", "name", "measured", "threshold", "result", "polls"]], "")


def register(app: typer.Typer, collect_app: typer.Typer) -> None:
    collect_app.command("poll")(collect_poll)
    app.command("inspect")(inspect_cmd)
