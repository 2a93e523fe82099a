"""The `gongkai` command line (spec §6): thin commands over the scoring core and the store."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from scoring.errors import EvidenceError, GongkaiError, SchemeError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="政務公開 scoring (gongkai)")
criteria_app = typer.Typer(no_args_is_help=True, help="Scheme files: check and load")
app.add_typer(criteria_app, name="criteria")
err = Console(stderr=True, highlight=False, soft_wrap=True)

Level = typer.Option("body", "--level", help="body | obligation | finding")
Format = typer.Option("table", "--format", help="table | csv | json")


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


@app.command("score")
def score_cmd(
    scheme: Annotated[Path | None, typer.Option("--scheme", help="scheme file (with --evidence)")] = None,
    evidence: Annotated[list[Path] | None, typer.Option("--evidence", help="evidence CSV/XLSX")] = None,
    db: Annotated[str | None, typer.Option("--db", help="database URL (stored evidence)")] = None,
    scheme_id: Annotated[str | None, typer.Option("--scheme-id", hidden=True)] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="assessment date YYYY-MM-DD")] = None,
    level: str = Level,
    fmt: str = Format,
) -> None:
    """Score every body: from a scheme file and evidence files, or from the database."""
    from scoring.output import LEVEL_COLUMNS, render

    _choice("--level", level, tuple(LEVEL_COLUMNS))
    _choice("--format", fmt, ("table", "csv", "json"))
    when = _date(as_of)
    if evidence:
        if scheme is None:
            raise GongkaiError("--evidence needs --scheme FILE")
        card = _score_files(scheme, evidence, when)
    else:
        raise GongkaiError("give --scheme FILE and --evidence FILE (scoring stored evidence needs the database store)")
    sys.stdout.write(render(card, level, fmt))


def _score_files(scheme_path: Path, evidence: list[Path], as_of: dt.date | None):
    import pandas as pd

    from scoring.engine import score
    from scoring.evidence import read_evidence, validate
    from scoring.scheme import load_scheme

    s = load_scheme(scheme_path)
    frames = [read_evidence(p, s) for p in evidence]
    ev = frames[0] if len(frames) == 1 else validate_all(frames, evidence, s, validate, pd)
    return score(s, ev, as_of)


def validate_all(frames, paths, scheme, validate, pd):
    """Several files score together; a key given in two files is a conflict, not a silent pick."""
    ev = pd.concat(frames, ignore_index=True)
    from scoring.evidence import KEY

    dup = ev.duplicated(KEY, keep=False)
    if dup.any():
        from scoring.errors import RowProblem

        first = ev[dup].iloc[0]
        raise EvidenceError(", ".join(p.name for p in paths), [RowProblem(
            int(first["row"]), "body", str(first["body"]),
            "the same record (body, obligation, period, event, step, assessor) is in two evidence files")])
    return ev


@app.command("demo")
def demo_cmd(
    out: Annotated[Path, typer.Option("--out", help="write the demo evidence file here (.csv, GB18030)")],
    scheme: Annotated[Path, typer.Option("--scheme", help="scheme file")] = Path("criteria/shandong-2017.yaml"),
) -> None:
    """The 2017 scheme's synthetic demo evidence (clearly labelled as synthetic)."""
    from scoring import demo
    from scoring.scheme import load_scheme

    table = demo.generate(load_scheme(scheme))
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False, encoding="gb18030")
    err.print(f"wrote {len(table)} synthetic evidence rows to {out}")


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
    try:
        app(standalone_mode=False)
    except GongkaiError as e:
        _print_error(e)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except Exception as e:
        import click

        if isinstance(e, click.exceptions.Exit):
            sys.exit(e.exit_code)
        if isinstance(e, click.ClickException):
            e.show()
            sys.exit(e.exit_code)
        raise


if __name__ == "__main__":
    main()
