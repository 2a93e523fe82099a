"""`gongkai sample …`: the quality of the assessment (抽查) — thin typer commands over
`scoring.workflows.quality` (registered by scoring/cli.py; its helpers are read at call time)."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated

import typer

from scoring.errors import GongkaiError

sample_app = typer.Typer(no_args_is_help=True, help="Samples (抽查): draw, list, export, import, disagreements, settle, agreement")

Db = Annotated[str | None, typer.Option("--db", help="database URL (default: GONGKAI_DATABASE_URL or data/local/gongkai.db)")]
SchemeId = Annotated[str | None, typer.Option("--scheme", help="scheme id (may be left out when one is stored)")]
SampleId = Annotated[int | None, typer.Option("--sample", help="sample id (default: the latest)")]


def _cli():
    from scoring import cli

    return cli


@sample_app.command("draw")
def sample_draw(
    scheme: SchemeId = None,
    size: Annotated[str, typer.Option("--size", help="auto (GB/T 2828.1 level II) or a number per lot")] = "auto",
    by: Annotated[str | None, typer.Option("--by", help="body | obligation | firm: each a lot")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="the random seed (default: a random one, stored)")] = None,
    aql: Annotated[str | None, typer.Option("--aql", help="1.0 | 2.5 | 4.0 | 6.5 (default 2.5)")] = None,
    db: Db = None,
) -> None:
    """Draw a reproducible random sample of the assessed items (evaluator, admin); stored and audited."""
    from scoring.workflows import quality as q

    drawn = q.draw_sample(db, actor=_cli()._actor(db), scheme_id=scheme, size=size, by=by, seed=seed, aql=aql)
    print(f"sample {drawn.id}: {len(drawn.items)} of {drawn.population} assessed items (seed {drawn.seed})")
    lots = drawn.items.groupby("stratum", sort=True).agg(lot=("lot", "first"), n=("id", "size"), ac=("ac", "first"),
                                                        re=("re", "first"))
    for stratum, r in lots.iterrows():
        print(f"  {stratum or 'all'}: lot {r.lot}, sample {r.n}, accept {r.ac} / reject {r.re} disagreements")


def _status(frame):
    return ["settled: " + s if s else ("disagree" if d else ("agree" if r else "")) for s, d, r in
            zip(frame["settled"], frame["disagree"], frame["read"], strict=True)]


@sample_app.command("list")
def sample_list(scheme: SchemeId = None, sample: SampleId = None, db: Db = None) -> None:
    """The sample's items and their status; the lots whose disagreements exceed the acceptance number
    are marked for re-checking (a firm account: its assigned items, blind)."""
    from scoring.workflows import quality as q

    cli = _cli()
    info, its = q.sample_items(db, actor=cli._actor(db), scheme_id=scheme, sample_id=sample)
    print(f"sample {info.id}: seed {info.seed}, size {info.size}, by {info.by or '—'}, AQL {info.aql}, "
          f"as of {info.as_of}, drawn by {info.drawn_by} from {info.population} items")
    if "first_outcome" not in its:  # a firm's blind view
        cli._print_table(its.assign(read=its["read"].map({True: "read", False: ""})), "no items of your assignments")
        return
    view = its.assign(status=_status(its), second=its["second"].where(its["read"], "—"))
    cli._print_table(view[["id", "stratum", "body", "obligation", "item", "firm", "first_outcome", "second", "status"]],
                     "no items")
    for stratum, lot in its.groupby("stratum", sort=True):
        bad = int(lot["disagree"].sum())
        if bool(lot["recheck"].iloc[0]):
            batches = sorted({b for x in lot["batches"] for b in x.split(",") if b}, key=int)
            print(f"RE-CHECK {stratum or 'all'}: {bad} disagreements > accept {lot['ac'].iloc[0]}: "
                  f"batches {', '.join(batches)} ({'、'.join(sorted(set(lot['firm'])))}) to be re-checked (复核)")
        else:
            print(f"{stratum or 'all'}: {bad} disagreements, accept {lot['ac'].iloc[0]}")


@sample_app.command("export")
def sample_export(out: Annotated[Path, typer.Option("--out", help="FILE.csv for the second assessor")],
                  scheme: SchemeId = None, sample: SampleId = None, db: Db = None) -> None:
    """The blind file of the sampled items (the evidence format, published_at/value/url empty)."""
    from scoring.workflows import quality as q

    data = q.export_blind(db, actor=_cli()._actor(db), scheme_id=scheme, sample_id=sample)
    out.write_bytes(data)
    items = data.count(b"\n") - 1
    print(f"{out}: {items} sampled items, blind")


@sample_app.command("import")
def sample_import(file: Path, scheme: SchemeId = None, sample: SampleId = None, db: Db = None) -> None:
    """Import second readings (the evidence format; a row with neither date nor value: nothing found).
    Stored apart from the evidence: the score changes only when a disagreement is settled."""
    from scoring.workflows import quality as q

    try:
        data = file.read_bytes()
    except OSError as e:
        raise GongkaiError(f"{file}: cannot read ({e.strerror})") from None
    done = q.import_second(db, actor=_cli()._actor(db), name=file.name, data=data, scheme_id=scheme, sample_id=sample)
    print(f"{file.name}: {done.rows} second readings of sample {done.sample_id} ({done.not_found} nothing found, "
          f"{done.replaced} replaced); not scored until settled")


@sample_app.command("disagreements")
def sample_disagreements(open_only: Annotated[bool, typer.Option("--open", help="unsettled only")] = False,
                         scheme: SchemeId = None, sample: SampleId = None, db: Db = None,
                         fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table") -> None:
    """Where the second reading differs from the first (evaluator, admin)."""
    from scoring.workflows import quality as q

    cli = _cli()
    frame = q.disagreements(db, actor=cli._actor(db), scheme_id=scheme, sample_id=sample, open_only=open_only)
    _write(frame, cli._choice("--format", fmt, ("table", "csv", "json")), "no disagreements")


@sample_app.command("settle")
def sample_settle(
    item: int, reason: Annotated[str, typer.Option("--reason", help="why (required)")],
    keep: Annotated[bool, typer.Option("--keep", help="keep the first reading")] = False,
    take: Annotated[bool, typer.Option("--take", help="take the second reading")] = False,
    value: Annotated[str | None, typer.Option("--value", help="a new value: a date, a number, or missing")] = None,
    db: Db = None,
) -> None:
    """Settle a disagreement (evaluator, admin): exactly one of --keep, --take, --value V."""
    from scoring.workflows import quality as q

    if keep + take + (value is not None) != 1:
        raise GongkaiError("give exactly one of --keep, --take, --value V")
    how = "keep" if keep else "take" if take else "value"
    batch = q.settle(db, actor=_cli()._actor(db), item_id=item, how=how, value=value or "", reason=reason)
    print(f"item {item} settled: {how}" + (f" {value}" if value else "")
          + (f"; imported as evidence batch {batch}" if batch else ""))


@sample_app.command("agreement")
def sample_agreement(by: Annotated[str, typer.Option("--by", help="obligation | firm | assessor")] = "obligation",
                     scheme: SchemeId = None, sample: SampleId = None, db: Db = None,
                     fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table") -> None:
    """Agreement of the two readings per group: group,n,agreement,kappa,alpha,low,high."""
    from scoring.workflows import quality as q

    cli = _cli()
    fmt = cli._choice("--format", fmt, ("table", "csv", "json"))
    frame = q.agreement(db, actor=cli._actor(db), by=by, scheme_id=scheme, sample_id=sample)
    _write(frame, fmt, "no second readings yet")
    if fmt == "table" and len(frame):
        print("— : undefined (κ: one category only, or no outcome items; α: one value only, or no ratings)")


def _write(frame, fmt: str, empty: str) -> None:
    """csv (NaN as an empty field), json (NaN as null) or a table (NaN as —, 3 decimals)."""
    if fmt == "csv":
        sys.stdout.write(frame.to_csv(index=False, float_format="%.4f"))
    elif fmt == "json":
        sys.stdout.write(frame.to_json(orient="records", force_ascii=False, date_format="iso") + "\n")
    elif not len(frame):
        print(empty)
    else:
        shown = frame.copy()
        for c in shown.columns:
            if shown[c].dtype.kind == "f":
                shown[c] = [("—" if math.isnan(v) else f"{v:.3f}") for v in shown[c]]
        print(shown.to_string(index=False))


self_app = typer.Typer(no_args_is_help=True, help="Self-assessment (自評) of a body: import, compare — never evidence")


@self_app.command("import")
def self_import(file: Path, scheme: SchemeId = None, db: Db = None) -> None:
    """Upload a self-assessment: CSV obligation,claim,url,published_at[,note] (an admin adds body)."""
    from scoring.workflows import quality as q

    try:
        data = file.read_bytes()
    except OSError as e:
        raise GongkaiError(f"{file}: cannot read ({e.strerror})") from None
    new, replaced = q.import_self_assessment(db, actor=_cli()._actor(db), name=file.name, data=data, scheme_id=scheme)
    print(f"{file.name}: {new} new, {replaced} replaced self-assessment claims; never scored")


@self_app.command("compare")
def self_compare(body: Annotated[str | None, typer.Option("--body", help="body id (a body account: its own)")] = None,
                 differing: Annotated[bool, typer.Option("--differing", help="only where they differ")] = False,
                 scheme: SchemeId = None, db: Db = None,
                 fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table") -> None:
    """The self-assessment beside the third-party finding (a body account: its own)."""
    from scoring.workflows import quality as q

    cli = _cli()
    frame = q.self_comparison(db, actor=cli._actor(db), body=body, scheme_id=scheme, differing=differing)
    _write(frame, cli._choice("--format", fmt, ("table", "csv", "json")), "no self-assessment")
