"""The `gongkai` command line (spec §6): thin commands over the scoring core and the store."""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from scoring import SCHEME_FILE
from scoring.errors import EvidenceError, GongkaiError, RowProblem, SchemeError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False, help="政務公開 scoring (gongkai)")
criteria_app = typer.Typer(no_args_is_help=True, help="Scheme files: check and load")
runs_app = typer.Typer(no_args_is_help=True, help="Stored scoring runs: list and verify")
user_app = typer.Typer(no_args_is_help=True, help="Accounts: add, role, disable, assign, list (admin)")
app.add_typer(criteria_app, name="criteria")
app.add_typer(runs_app, name="runs")
app.add_typer(user_app, name="user")
err = Console(stderr=True, highlight=False, soft_wrap=True)

Db = Annotated[str | None, typer.Option("--db", help="database URL (default: GONGKAI_DATABASE_URL or data/local/gongkai.db)")]
SchemeId = Annotated[str | None, typer.Option("--scheme", help="scheme id (may be left out when one is stored)")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="assessment date YYYY-MM-DD")]


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise GongkaiError(f"--as-of {text!r} is not a date (YYYY-MM-DD)") from None


def _choice(name: str, value: str, valid: tuple[str, ...]) -> str:
    if value not in valid:
        raise GongkaiError(f"{name} {value!r} is not one of: {', '.join(valid)}")
    return value


@contextmanager
def _session(db: str | None):
    """A session in one transaction: committed on success, rolled back on any error."""
    from sqlmodel import Session

    from scoring.db import engine_for

    with Session(engine_for(db)) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _actor(session, action: str):
    """Who the command acts as (GONGKAI_USER, GONGKAI_PASSWORD or a prompt), checked for `action`.
    A database without accounts is open: the first `gongkai user add … --role admin` closes it."""
    import os

    from scoring import accounts

    name, password = os.environ.get("GONGKAI_USER"), os.environ.get("GONGKAI_PASSWORD")
    if password is None and accounts.has_accounts(session) and sys.stdin.isatty():
        password = typer.prompt(f"password for {name}", hide_input=True)
    actor = accounts.authenticate(session, name=name, password=password)
    actor.require(action)
    if actor.role is not None:
        os.environ["GONGKAI_USER"] = actor.name  # the audit trail names the authenticated user
    return actor


@criteria_app.command("check")
def criteria_check(file: Path) -> None:
    """Validate a scheme: a summary, or every fault with its place."""
    from scoring.scheme import load_scheme

    s = load_scheme(file)
    kinds = {k: sum(b.kind == k for b in s.bodies) for k in ("city", "county", "department")}
    points = sum(o.points for o in s.obligations if not o.bonus)
    rules = sum(len(o.rules) for o in s.obligations)
    print(f"{file}: OK — {s.scheme.title} ({s.scheme.document})")
    print(f"  bodies: {kinds['city']} cities, {kinds['county']} counties, {kinds['department']} departments")
    print(f"  obligations: {len(s.obligations)} with {rules} rules, {points:g} points")
    print(f"  transparency share {s.scheme.transparency_share:.1%} >= {s.scheme.min_transparency_share:.1%}")


@criteria_app.command("load")
def criteria_load(file: Path, db: Db = None) -> None:
    """Store or update a scheme in the database."""
    from scoring import store
    from scoring.scheme import load_scheme

    s = load_scheme(file)
    with _session(db) as session:
        _actor(session, "scheme")
        changed = store.save_scheme(session, scheme=s)
    print(f"scheme {s.id}: {'stored' if changed else 'unchanged'} (sha256 {s.sha256[:12]})")


@app.command("score")
def score_cmd(
    scheme: Annotated[str | None, typer.Option("--scheme", help="scheme FILE (with --evidence) or stored scheme ID")] = None,
    evidence: Annotated[list[Path] | None, typer.Option("--evidence", help="evidence CSV/XLSX")] = None,
    db: Db = None,
    as_of: AsOf = None,
    level: Annotated[str, typer.Option("--level", help="body | obligation | finding")] = "body",
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
) -> None:
    """Score every body: from a scheme file and evidence files, or from the database (run stored)."""
    from scoring.output import LEVEL_COLUMNS, render

    _choice("--level", level, tuple(LEVEL_COLUMNS))
    _choice("--format", fmt, ("table", "csv", "json"))
    when = _date(as_of)
    if evidence:
        if scheme is None:
            raise GongkaiError("--evidence needs --scheme FILE")
        card = _score_files(Path(scheme), evidence, when)
    else:
        from scoring import store

        with _session(db) as session:
            _actor(session, "score")
            card, run_id = store.score_stored(session, scheme_id=scheme, as_of=when)
        err.print(f"scoring run {run_id} stored (as of {card.as_of})")
    sys.stdout.write(render(card, level, fmt))


def _score_files(scheme_path: Path, evidence: list[Path], as_of: dt.date | None):
    import pandas as pd

    from scoring.engine import score
    from scoring.evidence import KEY, read_evidence
    from scoring.scheme import load_scheme

    s = load_scheme(scheme_path)
    ev = pd.concat([read_evidence(p, s).assign(file=p.name) for p in evidence], ignore_index=True)
    dup = ev.duplicated(KEY, keep=False)
    if dup.any():
        first = ev[dup].iloc[0]
        raise EvidenceError(", ".join(sorted(set(ev.loc[dup, "file"]))), [RowProblem(
            int(first["row"]), "body", str(first["body"]),
            "the same record (body, obligation, period, event, step, assessor) is in two evidence files")])
    return score(s, ev.drop(columns="file"), as_of)


@app.command("import")
def import_cmd(
    file: Path,
    scheme: SchemeId = None,
    db: Db = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="validate and report; store nothing")] = False,
    firm: Annotated[str | None, typer.Option("--firm", help="the assessment firm (default: the file's assessor column)")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="where to write the problem rows CSV")] = None,
) -> None:
    """Import an evidence file (CSV/XLSX): all rows or none, a row report on failure."""
    from sqlalchemy.exc import DBAPIError

    try:
        data = file.read_bytes()
    except OSError as e:
        raise EvidenceError(str(file), [RowProblem(1, "file", str(file), f"cannot read: {e.strerror}")]) from None
    attempts = 3
    for attempt in range(1, attempts + 1):
        try:
            result = _import_once(file, data, scheme, db, dry_run, firm, report)
            break
        except DBAPIError as e:  # another writer holds the database, or changed the same records
            busy = "locked" in str(e.orig) or "busy" in str(e.orig) or "unique" in str(e.orig).lower() \
                or "duplicate key" in str(e.orig) or "serializ" in str(e.orig)
            if not busy:
                raise GongkaiError(f"the database refused the import: {str(e.orig).splitlines()[0]}; "
                                   "nothing from this file was stored") from None
            if attempt == attempts:
                raise GongkaiError(
                    f"the database stayed busy with another import or change ({str(e.orig).splitlines()[0]}); "
                    f"tried {attempts} times; nothing from {file.name} was stored — run the import again") from None
            err.print(f"the database is busy ({str(e.orig).splitlines()[0]}); trying again ({attempt}/{attempts - 1})")
            time.sleep(attempt)
    verb = "would import" if dry_run else "imported"
    where = "" if result.batch_id is None else f" as batch {result.batch_id}"
    print(f"{file.name}: {result.total} rows valid; {verb} {result.new} new, {result.replaced} replaced "
          f"(old values kept in history), {result.unchanged} unchanged{where}")


def _import_once(file: Path, data: bytes, scheme: str | None, db: str | None, dry_run: bool,
                 firm: str | None, report: Path | None):
    """One all-or-nothing attempt: validate, then import in a single transaction."""
    from rich.progress import Progress

    from scoring import accounts, store
    from scoring.evidence import problem_report, validate
    from scoring.tables import read_table, spreadsheet_safe

    digest = hashlib.sha256(data).hexdigest()
    with _session(db) as session:
        actor = _actor(session, "import")
        s = store.get_scheme(session, scheme_id=scheme)
        try:
            table = read_table(data, file.name)
            ev = validate(table, s, file.name)
            accounts.check_firm_rows(session, actor=actor, scheme=s, evidence=ev, source=file.name)
        except EvidenceError as e:
            if "table" in locals():
                out = report or file.with_name(file.stem + ".problems.csv")
                spreadsheet_safe(problem_report(table, e.problems)).to_csv(out, index=False, encoding="utf-8-sig")
                err.print(f"the rows with problems, with a 問題 column to fix and re-send: {out}")
            _audit_refusal(db, s.id, file.name, digest, len(e.problems))
            raise
        who = firm if firm is not None else "、".join(sorted(set(ev["assessor"]) - {""}))
        with Progress(console=err, transient=True, disable=dry_run or len(ev) < 20_000) as bar:
            task = bar.add_task("importing", total=len(ev))
            result = store.import_evidence(session, scheme=s, evidence=ev, file_name=file.name, dry_run=dry_run,
                                           sha256=digest, firm=who, imported_by=actor.name,
                                           progress=lambda n: bar.advance(task, n))
        if dry_run:
            session.rollback()
    return result


def _audit_refusal(db: str | None, scheme_id: str, name: str, digest: str, problems: int) -> None:
    from scoring import store

    with _session(db) as session:
        store.audit(session, action="import_refused", scheme_id=scheme_id, sha256=digest,
                    detail=f"{name}: {problems} problem(s), nothing imported")


@app.command("demo")
def demo_cmd(
    db: Db = None,
    out: Annotated[Path | None, typer.Option("--out", help="write the demo evidence as a GB18030 CSV instead")] = None,
    scheme: Annotated[Path, typer.Option("--scheme-file", help="scheme file")] = SCHEME_FILE,
) -> None:
    """Load the 2017 scheme with synthetic demo evidence (clearly labelled) into the database."""
    from scoring import demo, store
    from scoring.evidence import validate
    from scoring.scheme import load_scheme
    from scoring.tables import read_table

    s = load_scheme(scheme)
    table = demo.generate(s)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False, encoding="gb18030")
        print(f"wrote {len(table)} synthetic evidence rows to {out}")
        return
    data = table.to_csv(index=False).encode("utf-8")
    ev = validate(read_table(data, "demo"), s, "demo")
    with _session(db) as session:
        _actor(session, "scheme")
        store.save_scheme(session, scheme=s)
        result = store.import_evidence(session, scheme=s, evidence=ev, file_name="demo（合成數據 synthetic）",
                                       sha256=hashlib.sha256(data).hexdigest(), firm=demo.FIRM)
    print(f"demo: scheme {s.id} with {result.total} synthetic evidence rows "
          f"({result.new} new, {result.unchanged} already there)")


@app.command("synth")
def synth_cmd(
    rows: Annotated[int, typer.Option("--rows", help="about how many evidence records (≥ 36,000)")],
    out: Annotated[Path, typer.Option("--out", help="evidence CSV to write")],
    scheme_out: Annotated[Path, typer.Option("--scheme-out", help="scheme YAML to write")] = Path("synthetic.yaml"),
    seed: Annotated[int, typer.Option("--seed")] = 7,
) -> None:
    """A seeded national-scale scheme (333 cities, 2,844 counties, 60 departments, daily monitoring
    channels) and its synthetic evidence, for load tests: `criteria load` the scheme, `import` the CSV."""
    from scoring import synth

    scheme = synth.for_rows(rows)
    frame = synth.evidence(scheme, seed)
    scheme_out.write_text(scheme.text, encoding="utf-8")
    synth.write_csv(scheme, frame, out)
    print(f"{scheme_out}: {len(scheme.bodies)} bodies, {len(scheme.obligations)} obligations; "
          f"{out}: {len(frame)} synthetic evidence rows")


@app.command("templates")
def templates_cmd(out: Annotated[Path, typer.Option("--out", help="folder")] = Path("templates")) -> None:
    """Write the import templates (CSV and XLSX per rule kind, Chinese headers, an example row)."""
    from scoring.templates import write_templates

    for path in write_templates(out):
        print(path)


@app.command("report")
def report_cmd(
    out: Annotated[list[Path], typer.Option("--out", help="report file(s): .xlsx .docx .html .pdf")],
    db: Db = None,
    scheme: SchemeId = None,
    as_of: AsOf = None,
    lang: Annotated[str, typer.Option("--lang", help="zh-Hans | zh-Hant | en")] = "zh-Hans",
) -> None:
    """The annual report (年度政務公開考核報告) of the stored evidence, in every format asked for.
    A format whose system part is missing says what to install; the others are still written."""
    from scoring import report, store
    from scoring.i18n import LANGUAGES

    _choice("--lang", lang, tuple(LANGUAGES))
    for path in out:
        if path.suffix.lower() not in report.FORMATS:
            raise GongkaiError(f"--out {path.name}: unknown report format; use one of {', '.join(report.FORMATS)}")
    with _session(db) as session:
        _actor(session, "score")
        card, run_id = store.scored_run(session, scheme_id=scheme, as_of=_date(as_of))
        summary = store.evidence_summary(session, scheme_id=card.scheme.id)
    built = report.build(card, summary, run_id, lang)
    failed = []
    for path in out:
        try:
            report.write(built, path)
            print(f"{path}  (run {run_id}, as of {card.as_of})")
        except GongkaiError as e:
            failed.append(f"{path.name}: {e}")
    if failed:
        raise GongkaiError("; ".join(failed))


@app.command("audit")
def audit_cmd(db: Db = None, limit: Annotated[int, typer.Option("--limit")] = 50) -> None:
    """The audit trail, newest first: who imported, replaced, loaded or scored what, when."""
    from scoring import store

    with _session(db) as session:
        _actor(session, "audit")
        print(store.audit_trail(session, limit=limit).to_string(index=False))


@runs_app.command("list")
def runs_list(db: Db = None, scheme: SchemeId = None) -> None:
    """Stored scoring runs, newest first."""
    from scoring import store

    with _session(db) as session:
        _actor(session, "read")
        print(store.runs(session, scheme_id=scheme).to_string(index=False))


@runs_app.command("verify")
def runs_verify(run: int, db: Db = None) -> None:
    """Recompute a stored run: the same numbers, or what changed since."""
    from scoring import store

    with _session(db) as session:
        _actor(session, "score")
        changes = store.verify_run(session, run_id=run)
    if changes:
        raise GongkaiError(f"run {run} cannot be reproduced: " + "; ".join(changes))
    print(f"run {run}: recomputed to the same scores")


@app.command("serve")
def serve_cmd(
    db: Db = None,
    port: Annotated[int, typer.Option("--port", help="HTTP port")] = 8501,
    address: Annotated[str, typer.Option("--address", help="listen address")] = "localhost",
) -> None:
    """Start the dashboard (Streamlit) at http://localhost:8501; the demo is loaded into an empty database."""
    import os
    import subprocess

    from scoring.db import engine_for, resolve_url

    url = resolve_url(db)
    engine_for(url)  # a bad URL fails here, with a message, not inside the server
    app_file = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
    env = {**os.environ, "GONGKAI_DATABASE_URL": url}
    print(f"gongkai dashboard: http://{address}:{port}  (database {url})", flush=True)
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_file), "--server.port", str(port),
           "--server.address", address, "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    raise typer.Exit(subprocess.call(cmd, env=env))


def _new_password() -> str:
    import os

    password = os.environ.get("GONGKAI_NEW_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    return password


@user_app.command("add")
def user_add(name: str, role: Annotated[str, typer.Option("--role", help="admin | evaluator | firm | viewer")],
             db: Db = None) -> None:
    """Add an account (password from GONGKAI_NEW_PASSWORD, standard input or a prompt). The first
    account must be an admin; from then on every command needs GONGKAI_USER and GONGKAI_PASSWORD."""
    from scoring import accounts

    password = _new_password()
    with _session(db) as session:
        by = _actor(session, "users") if accounts.has_accounts(session) else accounts.Actor(name, None)
        accounts.add_user(session, name=name, password=password, role=role, by=by)
    print(f"user {name} added as {role}")


@user_app.command("role")
def user_role(name: str, role: str, db: Db = None) -> None:
    """Change an account's role."""
    from scoring import accounts

    with _session(db) as session:
        accounts.set_role(session, name=name, role=role, by=_actor(session, "users"))
    print(f"user {name} is now {role}")


@user_app.command("disable")
def user_disable(name: str, db: Db = None) -> None:
    """Disable an account (it can no longer sign in; its history stays)."""
    from scoring import accounts

    with _session(db) as session:
        accounts.disable(session, name=name, by=_actor(session, "users"))
    print(f"user {name} disabled")


@user_app.command("assign")
def user_assign(name: str, body: Annotated[str, typer.Option("--body", help="body id, kind, or *")] = "*",
                obligation: Annotated[str, typer.Option("--obligation", help="obligation id or *")] = "*",
                db: Db = None) -> None:
    """Let a firm import evidence for a body (or kind) and obligation."""
    from scoring import accounts

    with _session(db) as session:
        accounts.assign(session, name=name, body=body, obligation=obligation, by=_actor(session, "users"))
    print(f"firm {name} may import body {body}, obligation {obligation}")


@user_app.command("list")
def user_list(db: Db = None) -> None:
    """Accounts and their roles."""
    from scoring import accounts

    with _session(db) as session:
        _actor(session, "users")
        print(accounts.users(session).to_string(index=False))


@app.command("reject")
def reject_cmd(evidence_id: int, reason: Annotated[str, typer.Option("--reason", help="why (required)")],
               db: Db = None) -> None:
    """Reject an evidence record with a reason: kept and shown, no longer scored (evaluator, admin)."""
    from scoring import accounts

    with _session(db) as session:
        accounts.reject(session, evidence_id=evidence_id, reason=reason, by=_actor(session, "reject"))
    print(f"evidence {evidence_id} rejected: {reason}")


def _print_error(e: GongkaiError) -> None:
    if isinstance(e, EvidenceError):
        err.print(f"[bold red]error:[/] {e.source}: {len(e.problems)} problem(s); nothing was imported or scored")
        for p in e.problems[:200]:
            err.print(f"  row {p.row}, column {p.column}, value {p.value!r}: {p.reason}", markup=False)
        if len(e.problems) > 200:
            err.print(f"  … and {len(e.problems) - 200} more")
    elif isinstance(e, SchemeError):
        err.print(f"[bold red]error:[/] {e.path}: {len(e.faults)} fault(s)")
        for f in e.faults:
            err.print(f"  - {f}", markup=False)
    else:
        err.print(f"[bold red]error:[/] {e}", markup=False)


def main() -> None:
    """Entry point: user mistakes become one clear message and exit 1, never a traceback."""
    import click

    try:
        app(standalone_mode=False)
    except GongkaiError as e:
        _print_error(e)
        sys.exit(1)
    except (click.exceptions.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)


if __name__ == "__main__":
    main()
