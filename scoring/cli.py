"""The `gongkai` command line (the commands and columns the README lists): thin typer commands, each a
call of one function in `scoring.workflows`. The acting account is read from the environment here, once."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from scoring import SCHEME_FILE
from scoring.errors import EvidenceError, GongkaiError, RowProblem, SchemeError, count, shown
from scoring.i18n_cycle import cycle_day
from scoring.method import LOST
from scoring.method.scheme import draft_reviews, lineage_faults
from scoring.store.cycle import Stage


def _flag_type(display):
    """typer 0.29 shows a flag's type (`--help <bool>`, `--final <bool>`): a flag takes no value, so none."""
    def shown(self, ctx):
        return None if self.is_flag else display(self, ctx)
    return shown


typer.core.TyperOption.display_type_rich = _flag_type(typer.core.TyperOption.display_type_rich)  # type: ignore[method-assign]

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False, help="政務公開 scoring (gongkai)")
criteria_app = typer.Typer(no_args_is_help=True, help="Scheme files: check and load")
runs_app = typer.Typer(no_args_is_help=True, help="Stored scoring runs: list and verify")
user_app = typer.Typer(no_args_is_help=True, help="Accounts: add, role, disable, enable, password, assign, list")
app.add_typer(criteria_app, name="criteria")
app.add_typer(runs_app, name="runs")
app.add_typer(user_app, name="user")
appeal_app = typer.Typer(no_args_is_help=True, help="Appeals (申訴) of a preliminary result: add, list, decide")
app.add_typer(appeal_app, name="appeal")
err = Console(stderr=True, highlight=False, soft_wrap=True)

Db = Annotated[str | None, typer.Option("--db", help="database URL (default: GONGKAI_DATABASE_URL or data/local/gongkai.db)")]
SchemeId = Annotated[str | None, typer.Option("--scheme", help="scheme id (may be left out when one is stored)")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="assessment date YYYY-MM-DD")]


@contextmanager
def _progress(label: str, show: bool = True) -> Iterator[Callable[..., None]]:
    """A progress line on stderr while a long command works — only on a terminal, so piped or
    redirected output stays clean. Yields `step(description=None, advance=0)`."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,.0f}"),
                  TimeElapsedColumn(), console=err, transient=True, disable=not (show and err.is_terminal)) as bar:
        task = bar.add_task(label, total=None)

        def step(description: str | None = None, advance: int = 0) -> None:
            bar.update(task, description=description or label, advance=advance)

        yield step


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


def _actor(db: str | None):
    """Who the command acts as: read once, here at the edge, from GONGKAI_USER and GONGKAI_PASSWORD
    (or a prompt on a terminal). A database without accounts is open: the first `gongkai user add …
    --role admin` closes it. Each workflow re-checks the account and its permission."""
    import getpass
    import os
    import socket

    from scoring import workflows

    name, password = os.environ.get("GONGKAI_USER"), os.environ.get("GONGKAI_PASSWORD")
    if not workflows.has_accounts(db):
        return workflows.Actor(name or getpass.getuser(), None)
    if not name:   # no one to sign in as: not a failed sign-in of anyone
        raise GongkaiError("this database has accounts: set GONGKAI_USER to your account's name "
                           "(and GONGKAI_PASSWORD, or type it when asked)")
    if password is None and sys.stdin.isatty():
        password = typer.prompt(f"password for {name}", hide_input=True)
    client = f"cli {getpass.getuser()}@{socket.gethostname()}"  # the lockout counts per client too
    return workflows.sign_in(db, name=name, password=password, client=client)


@criteria_app.command("check")
def criteria_check(file: Path) -> None:
    """Validate a scheme: a summary, or every fault with its place (and a draft's open decisions)."""
    from scoring.method.scheme import load_scheme

    try:
        s = load_scheme(file)
    except SchemeError:
        _print_reviews(draft_reviews(file.read_text(encoding="utf-8", errors="replace")), file)
        raise
    if s.open_reviews():
        _print_reviews(s.open_reviews(), file)
        raise typer.Exit(1)
    if s.lineage is not None:  # its predecessor, looked for beside it
        before = file.parent / f"{s.lineage.previous}.yaml"
        if not before.is_file():
            print(f"  lineage: {s.lineage.previous}.yaml is not beside it; the crosswalk is checked when loaded "
                  f"into a database holding {s.lineage.previous}")
        elif faults := lineage_faults(s, load_scheme(before)):
            raise SchemeError(str(file), faults)
    kinds = {k: sum(b.kind == k for b in s.bodies) for k in ("city", "county", "department")}
    points = sum(o.points for o in s.obligations if not o.bonus)
    rules = sum(len(o.rules) for o in s.obligations)
    print(f"{file}: OK — {s.scheme.title} ({s.scheme.document})")
    print(f"  bodies: {count(kinds['city'], 'city', 'cities')}, {count(kinds['county'], 'county', 'counties')}, "
          f"{count(kinds['department'], 'department')}")
    print(f"  obligations: {len(s.obligations)} with {count(rules, 'rule')}, {points:g} points")
    print(f"  transparency share {s.scheme.transparency_share:.1%} >= {s.scheme.min_transparency_share:.1%}")


def _print_reviews(reviews: list[str], file: Path) -> None:
    if reviews:
        print(f"{file}: a DRAFT — {count(len(reviews), 'decision')} still to make (review:):")
        for r in reviews:
            print(f"  - {r}")


@criteria_app.command("draft")
def criteria_draft(document: Path, out: Annotated[Path, typer.Option("--out", help="the draft scheme, FILE.yaml")],
                   previous: Annotated[str | None, typer.Option("--previous", help="last year's scheme: a stored ID or a FILE")] = None,
                   db: Db = None) -> None:
    """Draft next year's scheme from its document (.txt or .docx): every guess marked `review:`."""
    from scoring import workflows

    try:
        data = document.read_bytes()
    except OSError as e:
        raise GongkaiError(f"{document}: cannot read ({e.strerror})") from None
    text = workflows.draft_scheme(db, actor=_actor(db) if previous and not Path(previous).is_file() else None,
                                  data=data, name=document.name, previous=previous)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    reviews = draft_reviews(text)
    import yaml

    print(f"{out}: a draft of {len(yaml.safe_load(text)['obligations'])} obligations, {count(len(reviews), 'decision')} "
          f"marked review: — `gongkai criteria check {out}` lists them")


@criteria_app.command("load")
def criteria_load(file: Path, db: Db = None) -> None:
    """Store or update a scheme in the database."""
    from scoring import workflows

    s, changed = workflows.load_scheme_file(db, actor=_actor(db), path=file)
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
    from scoring import workflows
    from scoring.report.output import LEVEL_COLUMNS, render

    _choice("--level", level, tuple(LEVEL_COLUMNS))
    _choice("--format", fmt, ("table", "csv", "json"))
    when = _date(as_of)
    if evidence:
        if scheme is None:
            raise GongkaiError("--evidence needs --scheme FILE")
        card = workflows.score_files(Path(scheme), evidence, when)
    else:
        actor = _actor(db)
        with _progress("scoring the stored evidence"):
            try:
                card, run_id = workflows.score_current(db, actor=actor, scheme_id=scheme, as_of=when)
                why = "storing a scoring run needs the evaluator or admin role"
            except workflows.DatabaseBusy as busy:  # the scores are shown; the run is stored another time
                card, run_id = workflows.score_unstored(db, actor=actor, scheme_id=scheme, as_of=when), None
                why = f"{busy}"
        err.print(f"scoring run {run_id} (as of {card.as_of})" if run_id is not None else
                  f"not stored (as of {card.as_of}): {why}", markup=False)
    sys.stdout.write(render(card, level, fmt))





@app.command("compare")
def compare_cmd(db: Db = None, scheme: SchemeId = None, as_of: AsOf = None,
                what: Annotated[str, typer.Option("--show", help="changes | recurring | trend")] = "changes",
                final: Annotated[bool, typer.Option("--final", help="this scheme's published final result, not the current scores")] = False,
                fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table") -> None:
    """Year over year: each body's score and rank beside the previous scheme's final result (through
    the crosswalk), the comparable score on the obligations both years share, and the problems lost
    in both years (反復出現)."""
    from scoring import workflows

    _choice("--show", what, ("changes", "recurring", "trend"))
    _choice("--format", fmt, ("table", "csv", "json"))
    yoy = workflows.year_over_year(db, actor=_actor(db), scheme_id=scheme, as_of=_date(as_of), final=final)
    if yoy is None:
        raise GongkaiError("no year to compare with: the scheme names no previous scheme (lineage.previous), "
                           "or that scheme has no final result stored (gongkai publish --final)")
    table = {"changes": yoy.changes, "recurring": yoy.recurring, "trend": yoy.trend}[what]
    err.print(f"compared with the final result of {yoy.previous}")
    if fmt == "csv":
        sys.stdout.write(table.to_csv(index=False, float_format="%.2f", lineterminator="\n"))
    elif fmt == "json":
        sys.stdout.write(table.to_json(orient="records", force_ascii=False, double_precision=2) + "\n")
    else:
        _print_table(table.round(2), "nothing to compare")


@app.command("import")
def import_cmd(
    file: Path,
    scheme: SchemeId = None,
    db: Db = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="validate and report; store nothing")] = False,
    firm: Annotated[str | None, typer.Option("--firm", help="the assessment firm (default: the file's assessor column)")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="where to write the problem rows CSV")] = None,
    attachments: Annotated[Path | None, typer.Option("--attachments", help="folder of the files the 附件 column names")] = None,
) -> None:
    """Import an evidence file (CSV/XLSX, or a .zip of the table and its attachments): all rows or
    none, a row report on failure."""
    from scoring import workflows

    try:  # the file is hashed streamed and read only if it is not the latest import's file again
        size = file.stat().st_size
    except OSError as e:
        raise EvidenceError(str(file), [RowProblem(1, "file", str(file), f"cannot read: {e.strerror}")]) from None
    actor = _actor(db)
    with _progress(f"importing {file.name} (rows stored)", show=size >= 2_000_000) as step:
        try:
            result = workflows.import_file(
                db, actor=actor, name=file.name, data=file, scheme_id=scheme, dry_run=dry_run, firm=firm,
                attachments=attachments,
                progress=lambda n: step(advance=n),
                on_retry=lambda why, n: err.print(f"the database is busy ({why}); trying again ({n}/{workflows.ATTEMPTS - 1})",
                                                  markup=False))
        except workflows.ImportRefused as e:
            if len(e.rows):
                out = report or file.with_name(file.stem + ".problems.csv")
                out.write_bytes(e.problems_file())
                err.print(f"the rows with problems, with a 問題 column to fix and re-send: {out}", markup=False)
            raise
    verb = "would import" if dry_run else "imported"
    where = "" if result.batch_id is None else f" as batch {result.batch_id}"
    print(f"{file.name}: {count(result.total, 'row')} valid; {verb} {result.new} new, {result.replaced} replaced "
          f"(old values kept in history), {result.unchanged} unchanged, {result.withdrawn} withdrawn; "
          f"sightings (further rows of an item already in the file): {result.sightings}{where}")
    if result.pending:
        print(f"{result.pending} of the replaced are new values for rejected records: not scored until an "
              "evaluator accepts them (gongkai accept ID)")








@app.command("demo")
def demo_cmd(
    db: Db = None,
    out: Annotated[Path | None, typer.Option("--out", help="write the demo evidence as a GB18030 CSV instead")] = None,
    scheme: Annotated[Path, typer.Option("--scheme-file", help="scheme file")] = SCHEME_FILE,
    years: Annotated[int, typer.Option("--years", help="2: also the synthetic second year (2017's final published)")] = 1,
) -> None:
    """Load the 2017 scheme with synthetic demo evidence (clearly labelled) into the database."""
    from scoring import workflows
    from scoring.method.scheme import load_scheme

    if out is not None:
        table, _ = workflows.demo_evidence(load_scheme(scheme))
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False, encoding="gb18030")
        print(f"wrote {len(table)} synthetic evidence rows to {out}")
        return
    if years not in (1, 2):
        raise GongkaiError(f"--years {years}: the demo has 1 or 2 years")
    result = workflows.load_demo(db, actor=_actor(db), scheme_file=scheme)
    print(f"demo: scheme from {scheme.name} with {result.total} synthetic evidence rows "
          f"({result.new} new, {result.unchanged} already there)")
    if years == 2:
        second = workflows.load_second_year(db, actor=_actor(db))
        print(f"demo: 2017's final result published; the synthetic second year (synthetic-2018) with "
              f"{second.total} synthetic evidence rows ({second.new} new)")


synth_app = typer.Typer(help="Synthetic data: national-scale evidence (load tests), a fixture website (synth site)")
app.add_typer(synth_app, name="synth")


@synth_app.callback(invoke_without_command=True)
def synth_cmd(
    ctx: typer.Context,
    rows: Annotated[int | None, typer.Option("--rows", help="about how many evidence records (≥ 36,000)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="evidence CSV to write")] = None,
    scheme_out: Annotated[Path, typer.Option("--scheme-out", help="scheme YAML to write")] = Path("synthetic.yaml"),
    seed: Annotated[int, typer.Option("--seed")] = 7,
    counties: Annotated[int, typer.Option("--counties", help=(
        "counties in the scheme (≥ 2,844); the evidence stays the nation's (333 cities, 2,844 counties, "
        "60 departments): a larger scheme for the same file, e.g. 21,307 for 21,700 bodies"))] = 2844,
) -> None:
    """A seeded national-scale scheme (333 cities, 2,844 counties, 60 departments, daily monitoring
    channels) and its synthetic evidence, for load tests: `criteria load` the scheme, `import` the CSV."""
    from scoring.synthetic import synth

    if ctx.invoked_subcommand is not None:
        return
    if rows is None or out is None:
        raise GongkaiError("gongkai synth needs --rows N and --out FILE (or: gongkai synth site --out DIR)")
    if counties < synth.NATIONAL["counties"]:
        raise GongkaiError(f"--counties {counties}: at least {synth.NATIONAL['counties']} (the evidence's counties)")
    nation = synth.for_rows(rows)
    frame = synth.evidence(nation, seed)
    scheme = synth.for_rows(rows, counties) if counties != synth.NATIONAL["counties"] else nation
    scheme_out.write_text(scheme.text, encoding="utf-8")
    synth.write_csv(nation, frame, out)
    print(f"{scheme_out}: {count(len(scheme.bodies), 'body', 'bodies')}, {count(len(scheme.obligations), 'obligation')}; "
          f"{out}: {count(len(frame), 'synthetic evidence row')}")


@synth_app.command("site")
def synth_site_cmd(
    out: Annotated[Path, typer.Option("--out", help="folder to write the website into")],
    seed: Annotated[int, typer.Option("--seed")] = 7,
    pages: Annotated[int, typer.Option("--pages", help="filler news articles besides the publications")] = 60,
    body: Annotated[str, typer.Option("--body", help="the body whose site it is (2017 scheme id)")] = "tongji",
    scheme: Annotated[Path, typer.Option("--scheme", help="scheme file with collect hints")] = SCHEME_FILE,
) -> None:
    """A seeded static government website (channels, 信息公開目錄, articles, PDFs, GBK pages, traps) and
    its truth.csv (body, obligation, period, published_at, url), for the web collector."""
    from scoring.method.scheme import load_scheme
    from scoring.synthetic import site

    s = load_scheme(scheme)
    if body not in {b.id for b in s.bodies}:
        raise GongkaiError(f"--body {body!r} is not a body of {scheme.name}")
    if pages < 0:
        raise GongkaiError(f"--pages {pages}: 0 or more")
    written = site.write_site(s, out, body=body, seed=seed, filler=pages)
    truth = sum(a.truth and bool(a.obligation) for a in written.articles)
    print(f"{out}: the site of {written.name} ({body}): {count(len(written.articles), 'article')}, "
          f"{count(truth, 'publication')} in truth.csv; serve it on 127.0.0.1 (scoring.synthetic.site.SiteServer)")


@app.command("templates")
def templates_cmd(out: Annotated[Path, typer.Option("--out", help="folder")] = Path("templates")) -> None:
    """Write the import templates (CSV and XLSX per rule kind, Chinese headers, an example row)."""
    from scoring.intake.templates import write_templates

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
    from scoring import workflows
    from scoring.i18n import LANGUAGES

    _choice("--lang", lang, tuple(LANGUAGES))
    actor = _actor(db)
    with _progress("scoring") as step:
        done = workflows.write_report(db, actor=actor, outs=out, scheme_id=scheme, as_of=_date(as_of), lang=lang,
                                      on_step=lambda what: step(what, advance=1))
    for path in done.written:
        print(f"{path}  (run {done.run_id}, as of {done.as_of})")
    if done.failed:
        raise GongkaiError("; ".join(done.failed))


@app.command("robustness")
def robustness_cmd(
    db: Db = None,
    scheme: SchemeId = None,
    as_of: AsOf = None,
    draws: Annotated[int, typer.Option("--draws", min=1, max=100_000, help="perturbed re-scorings")] = 1000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    points_spread: Annotated[float, typer.Option("--points-spread", help="points × U(1 − s, 1 + s)")] = 0.2,
    late_credit: Annotated[str, typer.Option("--late-credit", help="late credit drawn from LOW:HIGH")] = "0.3:0.7",
    rating_spread: Annotated[float, typer.Option("--rating-spread", help="ratings ± U(0, s) points")] = 5.0,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
) -> None:
    """How sure is each rank? Per body: rank, its 5th/50th/95th percentile over perturbed re-scorings
    (points, late credit, ratings), grade, and the share of draws with the same grade."""
    from scoring import workflows

    _choice("--format", fmt, ("table", "csv", "json"))
    try:
        low, high = (float(x) for x in late_credit.split(":"))
        spread = workflows.Spread(points_spread, (low, high), rating_spread)
    except ValueError as e:
        raise GongkaiError(f"--late-credit {late_credit!r} / spreads: {e}") from None
    table = workflows.robustness(db, actor=_actor(db), scheme_id=scheme, as_of=_date(as_of), draws=draws,
                                 seed=seed, spread=spread)
    if fmt == "csv":
        sys.stdout.write(table.to_csv(index=False, float_format="%.3f", lineterminator="\n"))
    elif fmt == "json":
        sys.stdout.write(table.to_json(orient="records", force_ascii=False, double_precision=3) + "\n")
    else:
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


@app.command("audit")
def audit_cmd(db: Db = None, limit: Annotated[int, typer.Option("--limit")] = 50) -> None:
    """The audit trail, newest first: who imported, replaced, loaded or scored what, when."""
    from scoring import workflows

    _print_table(workflows.audit_entries(db, actor=_actor(db), limit=limit), "no audit entries")


@runs_app.command("list")
def runs_list(db: Db = None, scheme: SchemeId = None) -> None:
    """Stored scoring runs, newest first."""
    from scoring import workflows

    _print_table(workflows.runs(db, actor=_actor(db), scheme_id=scheme), "no scoring runs stored yet")


@runs_app.command("verify")
def runs_verify(run: int, db: Db = None) -> None:
    """Recompute a stored run: the same numbers, or what changed since."""
    from scoring import workflows

    changes = workflows.verify_run(db, actor=_actor(db), run_id=run)
    if changes:
        raise GongkaiError(f"run {run} cannot be reproduced: " + "; ".join(changes))
    print(f"run {run}: recomputed to the same scores")


# Streamlit settings of `gongkai serve`, on its command line so they hold from any directory: no
# Deploy button or developer menu, and the import limit of the CLI (MAX_FILE_BYTES, in MiB).
SERVE_OPTIONS = ["--client.toolbarMode", "minimal", "--server.maxUploadSize", "512"]


@app.command("serve")
def serve_cmd(
    db: Db = None,
    port: Annotated[int, typer.Option("--port", help="HTTP port")] = 8501,
    address: Annotated[str, typer.Option("--address", help="listen address")] = "localhost",
) -> None:
    """Start the dashboard (Streamlit) at http://localhost:8501; the demo is loaded into an empty database.
    The command becomes the Streamlit server (exec), so a signal to it stops the server itself."""
    import os

    from scoring.store.db import engine_for, resolve_url

    url = resolve_url(db)
    engine_for(url)  # a bad URL fails here, with a message, not inside the server
    app_file = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
    env = {**os.environ, "GONGKAI_DATABASE_URL": url}
    print(f"gongkai dashboard: http://{address}:{port}  (database {url})", flush=True)
    # magic off: a bare expression in a page is never rendered (it once dumped a docstring)
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_file), "--server.port", str(port),
           "--server.address", address, "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--runner.magicEnabled", "false", *SERVE_OPTIONS]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, cmd, env)  # no child left behind: SIGTERM/SIGINT reach Streamlit itself


def _new_password() -> str:
    import os

    password = os.environ.get("GONGKAI_NEW_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    return password


Firm = Annotated[str | None, typer.Option("--firm", help="a firm account's firm (its rows' assessor)")]


@user_app.command("add")
def user_add(name: str, role: Annotated[str, typer.Option("--role", help="admin | evaluator | firm | viewer")],
             firm: Firm = None, db: Db = None) -> None:
    """Add an account (password from GONGKAI_NEW_PASSWORD, standard input or a prompt). The first
    account must be an admin; from then on every command needs GONGKAI_USER and GONGKAI_PASSWORD.
    A firm account belongs to one firm: --firm 甲公司."""
    from scoring import workflows

    actor = _actor(db) if workflows.has_accounts(db) else None
    password = _new_password()
    workflows.add_user(db, actor=actor, name=name, password=password, role=role, firm=firm)
    print(f"user {name} added as {role}" + (f" of firm {firm}" if firm else ""))


@user_app.command("role")
def user_role(name: str, role: str, firm: Firm = None, db: Db = None) -> None:
    """Change an account's role (the last active admin stays an admin)."""
    from scoring import workflows

    workflows.set_role(db, actor=_actor(db), name=name, role=role, firm=firm)
    print(f"user {name} is now {role}")


@user_app.command("disable")
def user_disable(name: str, db: Db = None) -> None:
    """Disable an account (it can no longer sign in; its history stays; never the last active admin)."""
    from scoring import workflows

    workflows.disable_user(db, actor=_actor(db), name=name)
    print(f"user {name} disabled")


@user_app.command("enable")
def user_enable(name: str, db: Db = None) -> None:
    """Enable a disabled account again (its sign-in lockout is lifted too)."""
    from scoring import workflows

    workflows.enable_user(db, actor=_actor(db), name=name)
    print(f"user {name} enabled")


@user_app.command("password")
def user_password(name: Annotated[str | None, typer.Argument(help="an admin may name another account")] = None,
                  db: Db = None) -> None:
    """Change your own password (signed in with the current one), or, as an admin, reset another's.
    The new password comes from GONGKAI_NEW_PASSWORD, standard input or a prompt."""
    from scoring import workflows

    actor = _actor(db)
    workflows.set_password(db, actor=actor, name=name, password=_new_password())
    print(f"password of {name or actor.name} changed")


@user_app.command("assign")
def user_assign(name: str, body: Annotated[str, typer.Option("--body", help="body id, kind, or *")] = "*",
                obligation: Annotated[str, typer.Option("--obligation", help="obligation id or *")] = "*",
                db: Db = None) -> None:
    """Let a firm import evidence for a body (or kind) and obligation."""
    from scoring import workflows

    workflows.assign(db, actor=_actor(db), name=name, body=body, obligation=obligation)
    print(f"firm {name} may import body {body}, obligation {obligation}")


@user_app.command("list")
def user_list(db: Db = None) -> None:
    """Accounts and their roles."""
    from scoring import workflows

    _print_table(workflows.users(db, actor=_actor(db)), "no accounts: the database is open")


@app.command("reject")
def reject_cmd(evidence_id: int, reason: Annotated[str, typer.Option("--reason", help="why (required)")],
               db: Db = None) -> None:
    """Reject an evidence record with a reason: kept and shown, no longer scored (evaluator, admin)."""
    from scoring import workflows

    workflows.reject(db, actor=_actor(db), evidence_id=evidence_id, reason=reason)
    print(f"evidence {evidence_id} rejected: {reason}")


@app.command("accept")
def accept_cmd(evidence_id: int, db: Db = None) -> None:
    """Accept a value re-sent for a rejected record (or undo a rejection): scored again (evaluator, admin)."""
    from scoring import workflows

    workflows.accept(db, actor=_actor(db), evidence_id=evidence_id)
    print(f"evidence {evidence_id} accepted: scored again (the rejection stays in its history)")


# ---- the assessment cycle -----------------------------------------------------------------------

def _datetime(option: str, text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise GongkaiError(f"{option} {text!r} is not a date or date-time (YYYY-MM-DD[ HH:MM])") from None


@user_app.command("body")
def user_body(name: str, body: str, db: Db = None) -> None:
    """Tie a body account (--role body) to the one assessed unit it acts for."""
    from scoring import workflows

    workflows.tie_body(db, actor=_actor(db), name=name, body=body)
    print(f"user {name} acts for body {body}")


@app.command("publish")
def publish_cmd(
    preliminary: Annotated[bool, typer.Option("--preliminary", help="初評: open a feedback window")] = False,
    final: Annotated[bool, typer.Option("--final", help="終評: freeze the final result")] = False,
    days: Annotated[int, typer.Option("--days", help="feedback window, working days")] = 5,
    rectify_days: Annotated[int, typer.Option("--rectify-days", help="整改 due, working days after the final")] = 20,
    db: Db = None, scheme: SchemeId = None, as_of: AsOf = None,
) -> None:
    """Publish the current run as the preliminary result (with a feedback window) or the final one."""
    from scoring import workflows

    if preliminary == final:
        raise GongkaiError("give exactly one of --preliminary, --final")
    pub = workflows.publish(db, actor=_actor(db), stage=Stage.FINAL if final else Stage.PRELIMINARY, scheme_id=scheme,
                            as_of=_date(as_of), days=days, rectify_days=rectify_days)
    if pub.closes_on:
        print(f"preliminary result {pub.id} (run {pub.run_id}, as of {pub.as_of}): appeals until "
              f"{cycle_day(pub.closes_on, pub.provisional, 'zh-Hans')}")
    else:
        print(f"final result {pub.id} (run {pub.run_id}, as of {pub.as_of}) frozen; {pub.problems} 整改 problems opened"
              + (f", due {cycle_day(pub.due_on, pub.provisional, 'zh-Hans')}" if pub.due_on else ""))
    if pub.provisional:
        err.print(_provisional_note(), markup=False)
    if pub.unkept:
        err.print(f"published; the report's tables were not kept with the run ({pub.unkept}): each report "
                  "works them out", markup=False)


def _provisional_note() -> str:
    return ("暂定 (provisional): that date lies in a year whose holiday notice is not loaded; it was computed on "
            "the estimated statutory holidays and is recomputed by `gongkai calendar load FILE`")


@app.command("result")
def result_cmd(body: Annotated[str | None, typer.Option("--body", help="body id (a body account: its own)")] = None,
               db: Db = None, scheme: SchemeId = None) -> None:
    """A body's published result: score, gaps and the findings behind them."""
    from scoring import workflows

    r = workflows.body_result(db, actor=_actor(db), body=body, scheme_id=scheme)
    print(f"{r.publication.stage} result {r.publication.id} (run {r.publication.run_id}, as of {r.publication.as_of})"
          + (f"; appeals until {cycle_day(r.publication.closes_on, r.publication.provisional, 'zh-Hans')}"
             if r.publication.closes_on else ""))
    scores = r.scores[["body", "name", "score", "rank", "grade"]].copy()
    scores["score"] = scores["score"].map("{:.2f}".format)   # scores in two decimals, as published
    _print_table(scores, "")
    lost = r.findings[r.findings["lost"] > LOST][["obligation", "item", "outcome", "lost"]]
    _print_table(lost.round({"lost": 3}), "no points lost")


@appeal_app.command("add")
def appeal_add(
    body: Annotated[str, typer.Option("--body")], obligation: Annotated[str, typer.Option("--obligation")],
    item: Annotated[str, typer.Option("--item", help="the finding's item: 2017-03, deadline, E1/release …")],
    reason: Annotated[str, typer.Option("--reason")],
    attach: Annotated[Path | None, typer.Option("--attach", help="screenshot, PDF, saved page or WARC")] = None,
    published_at: Annotated[str | None, typer.Option("--published-at", help="when the file shows it was published")] = None,
    url: Annotated[str, typer.Option("--url")] = "", db: Db = None, scheme: SchemeId = None,
) -> None:
    """Appeal a finding of the preliminary result while the feedback window is open."""
    from scoring import workflows

    try:
        file = (attach.name, attach.read_bytes()) if attach else None
    except OSError as e:
        raise GongkaiError(f"--attach {attach}: cannot read ({e.strerror})") from None
    n = workflows.add_appeal(db, actor=_actor(db), body=body, obligation=obligation, item=item, reason=reason,
                             published_at=_datetime("--published-at", published_at), url=url, attachment=file,
                             scheme_id=scheme)
    print(f"appeal {n} filed: {body} · {obligation} · {item}")


@appeal_app.command("list")
def appeal_list(open_only: Annotated[bool, typer.Option("--open", help="undecided only")] = False,
                db: Db = None, scheme: SchemeId = None) -> None:
    """Appeals, oldest first (a body account: its own), with the claim: published_at, url, file (sha256)."""
    import pandas as pd

    from scoring import workflows

    frame = workflows.appeals(db, actor=_actor(db), open_only=open_only, scheme_id=scheme)
    claim = frame.assign(published_at=frame["published_at"].map(lambda v: "" if v is None or pd.isna(v) else f"{v:%Y-%m-%d %H:%M}"),
                         attachment=frame["attachment"].str.slice(0, 12))  # what the evaluator decides on
    _print_table(claim[["id", "body", "obligation", "item", "status", "filed_by", "reason", "published_at", "url",
                        "attachment", "decision"]], "no appeals")


@appeal_app.command("decide")
def appeal_decide(
    appeal: int, reason: Annotated[str, typer.Option("--reason")],
    accept: Annotated[bool, typer.Option("--accept")] = False, reject: Annotated[bool, typer.Option("--reject")] = False,
    published_at: Annotated[str | None, typer.Option("--published-at", help="the date the file shows")] = None,
    db: Db = None,
) -> None:
    """Accept or reject an appeal with a reason (evaluator, admin)."""
    from scoring import workflows

    if accept == reject:
        raise GongkaiError("give exactly one of --accept, --reject")
    decision = workflows.decide_appeal(db, actor=_actor(db), appeal_id=appeal, accept=accept, reason=reason,
                                       published_at=_datetime("--published-at", published_at))
    print(decision.summary)


problem_app = typer.Typer(no_args_is_help=True, help="整改 problems of the final result: list, set, cities")
app.add_typer(problem_app, name="problem")


@app.command("notice")
def notice_cmd(out: Annotated[Path, typer.Option("--out", help="FILE.docx or FILE.pdf")], db: Db = None,
               scheme: SchemeId = None, lang: Annotated[str, typer.Option("--lang", help="zh-Hans | zh-Hant")] = "zh-Hans") -> None:
    """The 通報 of the final result: grade lists per kind, the common problems, units 表現突出."""
    from scoring import workflows

    _choice("--lang", lang, ("zh-Hans", "zh-Hant"))
    print(workflows.write_notice(db, actor=_actor(db), out=out, scheme_id=scheme, lang=lang))


@app.command("notice-settings")
def notice_settings_cmd(office: Annotated[str | None, typer.Option("--office", help="发文机关, e.g. 山东省人民政府办公厅")] = None,
                        number: Annotated[str | None, typer.Option("--number", help="文号, {year} = year of issue")] = None,
                        to: Annotated[str | None, typer.Option("--to", help="主送机关 of the 通報")] = None,
                        cc: Annotated[str | None, typer.Option("--cc", help="抄送机关, separated by ，")] = None,
                        db: Db = None, scheme: SchemeId = None) -> None:
    """The letterhead of the 通報 and 整改通知書 (GB/T 9704-2012): show it, or set the fields given (audited)."""
    from scoring import workflows

    shown = workflows.notice_settings(db, actor=_actor(db), scheme_id=scheme, office=office, number=number, to=to, cc=cc)
    for key, value in shown.items():
        print(f"{key}: {value}")


@app.command("rectify")
def rectify_cmd(out: Annotated[Path, typer.Option("--out", help="folder")], db: Db = None, scheme: SchemeId = None,
                lang: Annotated[str, typer.Option("--lang", help="zh-Hans | zh-Hant")] = "zh-Hans",
                fmt: Annotated[str, typer.Option("--format", help="docx | pdf")] = "docx") -> None:
    """One 整改通知書 (.docx or .pdf) per body with lost points in the final result."""
    from scoring import workflows

    _choice("--lang", lang, ("zh-Hans", "zh-Hant"))
    _choice("--format", fmt, ("docx", "pdf"))
    for path in workflows.write_rectifications(db, actor=_actor(db), out=out, scheme_id=scheme, lang=lang,
                                               suffix="." + fmt):
        print(path)


@problem_app.command("list")
def problem_list(open_only: Annotated[bool, typer.Option("--open", help="open only")] = False,
                 body: Annotated[str | None, typer.Option("--body")] = None, db: Db = None, scheme: SchemeId = None) -> None:
    """整改 problems (a body account: its own)."""
    from scoring import workflows

    frame = workflows.problems(db, actor=_actor(db), open_only=open_only, body=body, scheme_id=scheme)
    frame = frame.assign(due_on=[cycle_day(d, p, "zh-Hans") for d, p in zip(frame["due_on"], frame["provisional"], strict=True)])
    frame = frame.assign(note=frame["note"].str.replace("\n", " | ", regex=False))  # the note history on one line
    _print_table(frame[["id", "body", "obligation", "lost", "due_on", "status", "note", "updated_by"]], "no problems")
    if frame["provisional"].any():
        err.print(_provisional_note(), markup=False)


@problem_app.command("set")
def problem_set(problem: int, status: Annotated[str, typer.Option("--status", help="open | rectified | verified")],
                note: Annotated[str, typer.Option("--note")] = "",
                attach: Annotated[Path | None, typer.Option("--attach", help="evidence of the rectification")] = None,
                db: Db = None) -> None:
    """Mark a problem rectified (its body, with evidence), verified or open again (evaluator)."""
    from scoring import workflows

    try:
        file = (attach.name, attach.read_bytes()) if attach else None
    except OSError as e:
        raise GongkaiError(f"--attach {attach}: cannot read ({e.strerror})") from None
    workflows.set_problem(db, actor=_actor(db), problem_id=problem, status=status, note=note, attachment=file)
    print(f"problem {problem}: {status}")


@problem_app.command("cities")
def problem_cities(db: Db = None, scheme: SchemeId = None) -> None:
    """Per city (with its counties) and per department: how many problems are open, rectified, verified."""
    from scoring import workflows

    _print_table(workflows.problems_by_city(db, actor=_actor(db), scheme_id=scheme), "no problems")


calendar_app = typer.Typer(no_args_is_help=True, help="The working-day calendar: load a year's holiday notice, show a year")
app.add_typer(calendar_app, name="calendar")


@calendar_app.command("load")
def calendar_load(file: Path, db: Db = None) -> None:
    """Load the State Council's holiday notice of a year (CSV date,type[,name]; type holiday|workday; or YAML)."""
    from scoring import workflows

    try:
        data = file.read_bytes()
    except OSError as e:
        raise GongkaiError(f"{file}: cannot read ({e.strerror})") from None
    done = workflows.load_calendar(db, actor=_actor(db), data=data, name=file.name)
    for year, (holidays, workdays) in done.years.items():
        print(f"{year}: {holidays} holidays, {workdays} make-up working days loaded from {file.name}")
    for pub, what, before, after in done.recomputed:
        print(f"publication {pub}: {what} {before} (暂定) → {after}")


@calendar_app.command("show")
def calendar_show(year: int, db: Db = None, scheme: SchemeId = None,
                  fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table") -> None:
    """Every holiday and make-up working day of a year, and where scoring takes them from."""
    from scoring import workflows

    view = workflows.calendar_year(db, actor=_actor(db), year=year, scheme_id=scheme)
    source = {"loaded": f"loaded notice {view.loaded_from}", "scheme": f"calendar_years of scheme {view.loaded_from}",
              "package": "the chinesecalendar package",
              "estimated": "nobody: not loaded — scoring refuses this year; cycle dates use these estimated "
                           "statutory holidays and are marked 暂定 (gongkai calendar load FILE)"}[view.source]
    days = view.days.assign(weekday=[f"星期{'一二三四五六日'[d.weekday()]}" for d in view.days["date"]])
    days = days[["date", "weekday", "type", "name"]]
    if _choice("--format", fmt, ("table", "csv", "json")) == "csv":
        sys.stdout.write(days.to_csv(index=False))
    elif fmt == "json":
        sys.stdout.write(days.assign(date=days["date"].astype(str)).to_json(orient="records", force_ascii=False) + "\n")
    else:
        print(f"{year}: {source}")
        _print_table(days, "no holidays or make-up working days")


# ---- the web collector (網站採集) -------------------------------------------------------------------

collect_app = typer.Typer(no_args_is_help=True, help="The web collector: crawl a body's site, proposals, accept, verify")
app.add_typer(collect_app, name="collect")


@collect_app.command("crawl")
def collect_crawl(
    body: Annotated[str, typer.Option("--body", help="body id")],
    site: Annotated[str, typer.Option("--site", help="the website's address, http(s)://…")],
    scheme: SchemeId = None,
    max_pages: Annotated[int, typer.Option("--max-pages", help="pages to fetch at most")] = 500,
    rate: Annotated[float, typer.Option("--rate", help="requests per second to the host (0: no limit)")] = 1.0,
    screenshots: Annotated[bool, typer.Option("--screenshots", help="a full-page PNG of every proposed page (Playwright, chromium)")] = False,
    allow_private: Annotated[bool, typer.Option("--allow-private", help="allow loopback and private addresses (admin, evaluator)")] = False,
    engine: Annotated[str | None, typer.Option("--engine", help="local (this process; default: GONGKAI_COLLECT_ENGINE) | redis (the workers' queue)")] = None,
    db: Db = None,
) -> None:
    """Crawl one body's website politely, archive every request and response (WARC), propose evidence."""
    from scoring.workflows import collect as workflows_collect

    actor = _actor(db)
    with _progress("crawling") as step:
        result = workflows_collect.crawl(db, actor=actor, body=body, site=site, scheme_id=scheme, max_pages=max_pages,
                                         rate=rate, allow_private=allow_private, screenshots=screenshots, engine=engine,
                                         progress=lambda url: step(url[-60:], advance=1))
    shots = (f"; {count(result.screenshots, 'screenshot')}, {result.screenshot_errors} pages not rendered"
             if screenshots else "")
    print(f"crawl {result.id}: {count(result.pages, 'page')}, {result.bytes:,} bytes, {count(result.errors, 'error')}, "
          f"{result.skipped} disallowed by robots.txt; {count(result.proposals, 'proposal')}{shots} "
          f"(gongkai collect proposals --crawl {result.id})")


@collect_app.command("worker")
def collect_worker(
    processes: Annotated[int, typer.Option("--processes", help="worker processes")] = 1,
    threads: Annotated[int, typer.Option("--threads", help="threads per process (URLs fetched at once)")] = 4,
) -> None:
    """Run crawl workers on the queue (GONGKAI_COLLECT_BROKER, GONGKAI_COLLECT_QUEUE) until stopped."""
    if processes < 1 or threads < 1:
        raise GongkaiError(f"--processes {processes} --threads {threads}: at least 1 each")
    from scoring.workflows import collect_engine

    collect_engine.run_workers(processes, threads)


@collect_app.command("proposals")
def collect_proposals(
    crawl: Annotated[int | None, typer.Option("--crawl", help="crawl id (default: all)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
    db: Db = None,
) -> None:
    """Proposed evidence rows: body,obligation,period,published_at,url,title,confidence,reason,capture."""
    from scoring.collect.match import COLUMNS
    from scoring.intake.tables import csv_bytes, spreadsheet_safe
    from scoring.workflows import collect as workflows_collect

    _choice("--format", fmt, ("table", "csv", "json"))
    frame = workflows_collect.proposals(db, actor=_actor(db), crawl_id=crawl)
    if fmt == "csv":
        sys.stdout.write(csv_bytes(spreadsheet_safe(frame[COLUMNS].astype(str))).decode("utf-8"))
    elif fmt == "json":
        sys.stdout.write(frame[COLUMNS].to_json(orient="records", force_ascii=False) + "\n")
    else:  # for reading: the proposal's id (accept --id) first, its status last
        _print_table(frame[["id", *COLUMNS, "status"]], "no proposals")


@collect_app.command("accept")
def collect_accept(
    crawl: Annotated[int, typer.Option("--crawl", help="crawl id")],
    min_confidence: Annotated[float | None, typer.Option("--min-confidence", help="accept those at or above (0–1)")] = None,
    ids: Annotated[list[int] | None, typer.Option("--id", help="a proposal id (repeatable)")] = None,
    db: Db = None,
) -> None:
    """Accept proposals as evidence: one import (same checks, all or nothing), the capture as its file."""
    from scoring.workflows import collect as workflows_collect

    if min_confidence is not None and not 0 <= min_confidence <= 1:
        raise GongkaiError(f"--min-confidence {min_confidence:g}: between 0 and 1")
    done = workflows_collect.accept(db, actor=_actor(db), crawl_id=crawl, min_confidence=min_confidence, ids=ids)
    r = done.result
    print(f"crawl {crawl}: {count(len(done.ids), 'proposal')} accepted; {r.total} rows valid; imported {r.new} new, "
          f"{r.replaced} replaced, {r.unchanged} unchanged (batch {r.batch_id})")


@collect_app.command("verify")
def collect_verify(crawl: int, db: Db = None) -> None:
    """Recompute every WARC record's digest of a crawl; exit 1 naming each record that changed."""
    from scoring.workflows import collect as workflows_collect

    checked, problems = workflows_collect.verify(db, actor=_actor(db), crawl_id=crawl)
    if problems:
        for p in problems:
            err.print(f"changed: {p}", markup=False)
        raise GongkaiError(f"crawl {crawl}: {count(len(problems), 'record')} of {checked} changed since the crawl")
    print(f"crawl {crawl}: {count(checked, 'WARC record')} verified, all unchanged")


from scoring.cli_sample import sample_app, self_app  # noqa: E402  (the quality of the assessment, 抽查; 自評)

app.add_typer(sample_app, name="sample")
app.add_typer(self_app, name="self")

from scoring.cli_inspect import register as register_inspect  # noqa: E402  (the website inspection, 網站檢查)

register_inspect(app, collect_app)


def _print_table(frame, empty: str) -> None:
    print(frame.to_string(index=False) if len(frame) else empty)


def _print_error(e: GongkaiError) -> None:
    from rich.markup import escape

    if isinstance(e, EvidenceError):
        err.print(f"[bold red]error:[/] {escape(shown(e.source))}: {count(len(e.problems), 'problem')}; "
                  "nothing was imported or scored")
        for p in e.problems[:200]:  # values cut to 200 characters: a 50 MB line is not echoed back
            err.print(f"  row {p.row}, column {shown(p.column)}, value {shown(p.value)!r}: {shown(p.reason, 1000)}",
                      markup=False)
        if len(e.problems) > 200:
            err.print(f"  … and {len(e.problems) - 200} more")
    elif isinstance(e, SchemeError):
        err.print(f"[bold red]error:[/] {escape(str(e.path))}: {count(len(e.faults), 'fault')}")
        for f in e.faults:
            err.print(f"  - {f}", markup=False)
    else:
        err.print(f"[bold red]error:[/] {escape(str(e))}")


def _setting_problem(e: ValidationError) -> str:
    """A settings class's refusal as one line naming the environment variable and its value."""
    from pydantic_settings import BaseSettings

    def every(cls: type[BaseSettings]) -> list[type[BaseSettings]]:
        return [cls, *(c for sub in cls.__subclasses__() for c in every(sub))]
    prefix = next((c.model_config.get("env_prefix", "") for c in every(BaseSettings) if c.__name__ == e.title), "")
    first = e.errors()[0]
    name = f"{prefix}{'_'.join(str(x) for x in first['loc'])}".upper()
    return f"the setting {name}={shown(str(first.get('input', '')))!r} is not valid: {first['msg']}"


def main() -> None:
    """Entry point: user mistakes become one clear message and exit 1 (2 for a bad option value, as
    click says it), never a traceback. Typer ≥ 0.29 carries its own copy of click: both are caught."""
    import click

    try:
        code = app(standalone_mode=False)  # a typer.Exit(n) in a command comes back as its code
        if isinstance(code, int) and code:
            sys.exit(code)
    except GongkaiError as e:
        _print_error(e)
        sys.exit(1)
    except ValidationError as e:   # a GONGKAI_… setting in the environment that is not of its kind
        err.print(f"error: {_setting_problem(e)}", markup=False)
        sys.exit(1)
    except (click.exceptions.Abort, typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except (click.exceptions.Exit, typer.Exit) as e:
        sys.exit(e.exit_code)
    except (click.ClickException, typer.TyperException) as e:  # a bad option value, a missing argument
        show = getattr(e, "show", None)
        if show is not None:
            show()
        else:
            err.print(f"error: {e}", markup=False)
        sys.exit(getattr(e, "exit_code", 2))


if __name__ == "__main__":
    main()
