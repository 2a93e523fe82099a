"""The quality of the assessment (抽查, issue 28) as use cases: draw a sample of assessed items, give a
second assessor the blind file, import the second readings, list and settle the disagreements (a
settled value enters the score through the one import path), agreement per group. Each function takes
the acting `Actor`, runs in one transaction, checks the permission and audits what it changes; a
refused step is audited (`_refusals_audited`)."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlmodel import Session

from scoring.errors import EvidenceError, GongkaiError, RowProblem, count
from scoring.intake.evidence import validate
from scoring.intake.sampling_plan import sampling_plan
from scoring.intake.tables import COLUMNS, csv_bytes, read_table
from scoring.method.agreement import agreement_table, agrees
from scoring.method.engine import Scorecard, score
from scoring.method.kinds import kind, named
from scoring.method.sampling import STRATA, draw
from scoring.method.scheme import Scheme
from scoring.report.quality import QualityInputs
from scoring.store import accounts
from scoring.store import quality as store
from scoring.store import repository as repo
from scoring.store.accounts import Actor, PermissionDenied
from scoring.store.audit import audit
from scoring.store.locks import lock_evidence
from scoring.store.models import Sample, SampleItem
from scoring.workflows._base import _as, _refusals_audited, transaction

GROUPS = ("obligation", "firm", "assessor")
NOT_FOUND = "missing"  # what a settlement's --value says for "the item was not published"


@dataclass(frozen=True)
class Drawn:
    """A drawn sample: its id, seed, the population it came from and the items drawn, per lot."""

    id: int
    seed: int
    population: int
    items: pd.DataFrame


def _scheme(session: Session, scheme_id: str | None) -> Scheme:
    return repo.get_scheme(session, scheme_id=scheme_id)


@_refusals_audited("sample_draw")
def draw_sample(db: str | None, *, actor: Actor, scheme_id: str | None = None, size: str = "auto",
                by: str | None = None, seed: int | None = None, aql: str | None = None) -> Drawn:
    """Draw a random sample of the assessed items (findings of the current evidence on every body ×
    obligation a firm read), stored with its seed and audited. The same evidence and seed draw the
    same items on any database. `size` auto: GB/T 2828.1 level II per lot; a number: that many per lot;
    `by` body|obligation|firm makes each stratum a lot. No seed: a random one, stored."""
    plan = sampling_plan()
    if size != "auto" and not size.isdigit():
        raise GongkaiError(f"--size {size!r}: auto or a whole number")
    if by is not None and by not in STRATA:
        raise GongkaiError(f"--by {by!r} is not one of: {', '.join(STRATA)}")
    seed = secrets.randbelow(2**31) if seed is None else seed
    with transaction(db) as session:
        who = _as(session, actor, "sample")
        scheme = _scheme(session, scheme_id)
        items, as_of, digest = store.population(session, scheme=scheme, as_of=None)
        drawn = draw(items, size=None if size == "auto" else int(size), by=by, seed=seed, plan=plan, aql=aql)
        sample = store.save_sample(session, scheme_id=scheme.id, seed=seed, size=size, by=by or "",
                                   aql=aql or plan.default_aql, as_of=as_of, population_size=len(items),
                                   digest=digest, who=who.name, drawn=drawn)
        assert sample.id is not None
        lots = drawn.groupby("stratum", sort=True).agg(lot=("lot", "first"), n=("n", "first"), ac=("ac", "first"))
        audit(session, who=who.name, action="sample_draw", scheme_id=scheme.id, sha256=digest,
              detail=f"sample {sample.id}: seed {seed}, size {size}, by {by or '—'}, AQL {sample.aql}, as of {as_of}; "
                     f"{len(drawn)} of {len(items)} items: "
                     + "; ".join(f"{s or 'all'} lot {r.lot} n {r.n} Ac {r.ac}" for s, r in lots.iterrows())
                     + " — items " + ", ".join(f"{r.body}·{r.obligation}·{r.item}" for r in drawn.itertuples())[:600])
        return Drawn(sample.id, seed, len(items), store.items(session, sample_id=sample.id))


def _readings(session: Session, scheme: Scheme, sample: Sample) -> pd.DataFrame:
    """Every item of the sample with its second reading (where one was imported): `second`,
    `second_value`, `second_assessor`, `read` (a second reading speaks to it), `disagree`, and per lot
    the disagreements and whether the lot is rejected (`recheck`: disagreements > Ac)."""
    assert sample.id is not None
    its = store.items(session, sample_id=sample.id)
    sec = store.second_rows(session, sample_id=sample.id)
    its["read"] = store.covered(its, sec)
    f = score(scheme, store.as_evidence(sec), sample.as_of).findings if sec["found"].any() else None
    second = pd.DataFrame(columns=["body", "obligation", "item", "second", "second_value"])
    if f is not None:
        second = pd.DataFrame({"body": f["body"].astype(str), "obligation": f["obligation"].astype(str),
                               "item": f["item"].astype(str), "second": f["outcome"].astype(str),
                               "second_value": f["value"].astype(float)}).drop_duplicates(["body", "obligation", "item"])
    its = its.merge(second, on=["body", "obligation", "item"], how="left")
    its["second"] = its["second"].fillna(NOT_FOUND).where(its["read"], "")
    its["second_value"] = its["second_value"].astype(float)
    names = sec.groupby(["body", "obligation"])["assessor"].agg(lambda s: "、".join(sorted(set(s)))).rename("second_assessor")
    its = its.merge(names.reset_index(), on=["body", "obligation"], how="left")
    its["second_assessor"] = its["second_assessor"].fillna("").where(its["read"], "")
    same = agrees(its.rename(columns={"first_outcome": "first"}))
    its["disagree"] = its["read"] & ~same
    lots = its.groupby("stratum")["disagree"].transform("sum")
    its["recheck"] = lots > its["ac"]
    return its


def _firm_may(session: Session, who: Actor, scheme: Scheme, its: pd.DataFrame) -> pd.DataFrame:
    """A firm's view of a sample: only its assigned items, never another firm's first reading."""
    if who.role != "firm":
        return its
    mask = accounts.assigned_mask(session, actor=who, scheme=scheme, body=its["body"], obligation=its["obligation"])
    return its[mask]


BLIND = ["id", "stratum", "body", "obligation", "kind", "item", "read"]


@_refusals_audited("sample_list", only=PermissionDenied)
def sample_items(db: str | None, *, actor: Actor, scheme_id: str | None = None,
                 sample_id: int | None = None) -> tuple[Sample, pd.DataFrame]:
    """A sample and its items: for evaluators, admins and viewers with both readings, the
    disagreements and the lots marked for re-checking; for a firm only its assigned items, blind."""
    with transaction(db) as session:
        who = _as(session, actor, "sample_read")
        scheme = _scheme(session, scheme_id)
        sample = store.get_sample(session, scheme_id=scheme.id, sample_id=sample_id)
        its = _readings(session, scheme, sample)
        if who.role == "firm":
            its = _firm_may(session, who, scheme, its)[BLIND]
        session.expunge(sample)
        return sample, its.reset_index(drop=True)


def _blind_rows(session: Session, scheme: Scheme, its: pd.DataFrame) -> pd.DataFrame:
    """The evidence import file of the sampled items, without the first reading: body, obligation and
    the item's period / event (with its time) / step; published_at, value and url empty."""
    ev = repo.load_evidence(session, scheme_id=scheme.id)
    event_at = {(str(b), str(e)): t for b, e, t in zip(ev["body"], ev["event"], ev["event_at"], strict=True) if str(e)}
    rows = []
    for r in its.itertuples():
        row = dict.fromkeys(COLUMNS, "") | {"body": r.body, "obligation": r.obligation}
        if store.is_period(r.kind, r.item):
            row["period"] = r.item
        elif "/" in r.item:
            row["event"], row["step"] = r.item.split("/", 1)
            at = event_at.get((r.body, row["event"]))
            row["event_at"] = "" if at is None or pd.isna(at) else pd.Timestamp(at).isoformat(sep=" ")
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS)).drop(columns=["attachment"])


@_refusals_audited("sample_export")
def export_blind(db: str | None, *, actor: Actor, scheme_id: str | None = None, sample_id: int | None = None) -> bytes:
    """The second assessor's file (UTF-8 CSV with a BOM, the evidence import format) of the sample's
    items — a firm's only of its assignments — WITHOUT the first reading. Audited."""
    with transaction(db) as session:
        who = _as(session, actor, "sample_read")
        scheme = _scheme(session, scheme_id)
        sample = store.get_sample(session, scheme_id=scheme.id, sample_id=sample_id)
        assert sample.id is not None
        its = _firm_may(session, who, scheme, store.items(session, sample_id=sample.id))
        table = _blind_rows(session, scheme, its)
        audit(session, who=who.name, action="sample_export", scheme_id=scheme.id,
              detail=f"sample {sample.id}: {count(len(table), 'item')}, blind (no first reading)")
        return b"\xef\xbb\xbf" + csv_bytes(table)


def _placeholders(table: pd.DataFrame, scheme: Scheme) -> tuple[pd.DataFrame, np.ndarray]:
    """A second reading may say "nothing found": a row with neither date nor value. Such rows are checked
    like any row (body, obligation, period, event, step) with a stand-in date or value the check
    needs, then stored as not found. Returns the table to validate and which rows are not found."""
    table = table.astype({c: str for c in table.columns if c != "row"})
    for col in ("published_at", "value"):
        if col not in table:
            table[col] = ""
    blank = ((table["published_at"] == "") & (table["value"] == "")).to_numpy()
    kinds = {o.id: {r.kind for r in o.rules} for o in scheme.obligations}
    end = f"{scheme.scheme.period.end.isoformat()} 23:59"  # after every period's and event's start
    for col in ("period", "event"):
        if col not in table:
            table[col] = ""
    for i in np.flatnonzero(blank):
        ob = kinds.get(unicodedata.normalize("NFKC", table["obligation"].iat[i]).strip(), set())
        if table["event"].iat[i]:
            dated = True
        elif table["period"].iat[i]:
            dated = "periodic" in ob
        else:
            dated = bool(ob & {"deadline", "count"}) or not ob & set(named(lambda k: k.values is not None))
        column, stand_in = ("published_at", end) if dated else ("value", "1")
        table.iat[i, table.columns.get_loc(column)] = stand_in
    table.attrs["columns"] = [c for c in table.columns if c != "row"]
    return table, blank


@dataclass(frozen=True)
class SecondImport:
    sample_id: int
    rows: int
    not_found: int
    replaced: int


@_refusals_audited("sample_import")
def import_second(db: str | None, *, actor: Actor, name: str, data: bytes, scheme_id: str | None = None,
                  sample_id: int | None = None) -> SecondImport:
    """Import a second assessor's file (the evidence format) as second readings of the sample's items:
    the import's row checks (and a firm's assignments) apply; every row must be a sampled body ×
    obligation; a firm never re-reads an item its own firm read first. Stored apart: the score does
    not change until an evaluator settles (`settle`). All or nothing; audited."""
    digest = hashlib.sha256(data).hexdigest()
    with transaction(db) as session:
        who = _as(session, actor, "second")
        scheme = _scheme(session, scheme_id)
        sample = store.get_sample(session, scheme_id=scheme.id, sample_id=sample_id)
        assert sample.id is not None
        table, blank = _placeholders(read_table(data, name), scheme)
        ev = validate(table, scheme, name)
        ev = accounts.check_firm_rows(session, actor=who, scheme=scheme, evidence=ev, source=name)
        its = store.items(session, sample_id=sample.id)
        sampled = set(zip(its["body"], its["obligation"], strict=True))
        own = accounts.account_firm(session, who)
        first_firms = {(b, o): set(f.split("、")) for b, o, f in zip(its["body"], its["obligation"], its["firm"], strict=True)}
        problems = [RowProblem(int(r.row), "body", f"{r.body} · {r.obligation}",
                               f"not an item of sample {sample.id}: a second reading is of sampled items only")
                    for r in ev.itertuples() if (r.body, r.obligation) not in sampled]
        problems += [RowProblem(int(r.row), "assessor", own, f"firm {own} read {r.body} · {r.obligation} first; "
                                "a second reading comes from another firm")
                     for r in ev.itertuples() if own and own in first_firms.get((r.body, r.obligation), set())]
        if problems:
            raise EvidenceError(name, sorted(problems, key=lambda p: p.row))
        nothing = set(table.loc[blank, "row"].astype(int))  # by row number: a file's blank lines are skipped
        ev = ev.assign(found=~ev["row"].astype(int).isin(nothing).to_numpy(),
                       assessor=ev["assessor"].where(ev["assessor"] != "", own or who.name))
        ev.loc[~ev["found"], ["published_at", "value"]] = [pd.NaT, np.nan]
        stored, replaced = store.save_second(session, sample_id=sample.id, rows=ev, file_name=name,
                                             sha256=digest, who=who.name)
        audit(session, who=who.name, action="sample_import", scheme_id=scheme.id, sha256=digest,
              detail=f"{name}: sample {sample.id}, {count(stored, 'second reading')} "
                     f"({int((~ev['found']).sum())} nothing found), {replaced} replaced; not scored")
        return SecondImport(sample.id, stored, int((~ev["found"]).sum()), replaced)


DISPUTE = ["id", "stratum", "body", "obligation", "kind", "item", "firm", "first_outcome", "first_value",
           "second", "second_value", "second_assessor", "settled", "settled_value", "reason", "recheck"]


@_refusals_audited("sample_disagreements", only=PermissionDenied)
def disagreements(db: str | None, *, actor: Actor, scheme_id: str | None = None, sample_id: int | None = None,
                  open_only: bool = False) -> pd.DataFrame:
    """Sampled items whose second reading differs from the first (outcome, or a rating's value), with
    both readings and any settlement (evaluators and admins: they see both firms' readings)."""
    with transaction(db) as session:
        _as(session, actor, "sample")
        scheme = _scheme(session, scheme_id)
        its = _readings(session, scheme, store.get_sample(session, scheme_id=scheme.id, sample_id=sample_id))
        its = its[its["disagree"] & ((its["settled"] == "") if open_only else True)]
        return its[DISPUTE].reset_index(drop=True)


def _settled_rows(session: Session, scheme: Scheme, item: SampleItem, how: str, value: str) -> pd.DataFrame | None:
    """The evidence rows a settlement states for the item (as the first firm's, replacing its reading),
    or None when it states that nothing was published (the first reading's records are then rejected)."""
    firm = item.firm.split("、")[0]
    base = _blind_rows(session, scheme, pd.DataFrame([{"body": item.body, "obligation": item.obligation,
                                                        "kind": item.kind, "item": item.item}])).iloc[0].to_dict()
    base |= {"assessor": firm, "note": f"抽查 sample {item.sample_id} item {item.id}: {how}"}
    if how == "take":
        sec = store.second_rows(session, sample_id=item.sample_id)
        sec = sec[(sec["body"] == item.body) & (sec["obligation"] == item.obligation)]
        if store.is_period(item.kind, item.item):
            sec = sec[sec["period"] == item.item]
        elif "/" in item.item:
            sec = sec[(sec["event"] + "/" + sec["step"]) == item.item]
        sec = sec[sec["found"]]
        if sec.empty:
            return None
        return pd.DataFrame([base | {"published_at": "" if pd.isna(r.published_at) else pd.Timestamp(r.published_at).isoformat(sep=" "),
                                     "value": "" if pd.isna(r.value) else f"{r.value:g}", "url": r.url}
                             for r in sec.itertuples()])
    if value.strip().lower() == NOT_FOUND:
        return None
    if kind(item.kind).values is not None:  # the kind's rows carry a value, not a date
        return pd.DataFrame([base | {"value": value}])
    return pd.DataFrame([base | {"published_at": value}])


@_refusals_audited("sample_settle")
def settle(db: str | None, *, actor: Actor, item_id: int, how: str, reason: str, value: str = "",
           scheme_id: str | None = None) -> int | None:
    """Settle a disagreement (evaluator, admin), with a reason: `keep` the first reading, `take` the
    second, or `value` a new one (a date, a number, or `missing`). A settlement that changes the
    reading enters the score through the import path (validated rows, `repo.import_evidence`, as the
    first firm's statement of the item), or — when it says nothing was published — by rejecting the
    first reading's records with the reason. Returns the import batch, if one was made. Audited."""
    if how not in ("keep", "take", "value"):
        raise GongkaiError(f"settle: {how!r} is not one of: keep, take, value")
    if not reason.strip():
        raise GongkaiError("a settlement needs a reason (--reason)")
    if how == "value" and not value.strip():
        raise GongkaiError("--value needs the value: a date, a number, or missing")
    with transaction(db) as session:
        who = _as(session, actor, "sample")
        item = session.get(SampleItem, item_id)
        if item is None:
            raise GongkaiError(f"no sampled item {item_id}")
        sample = session.get(Sample, item.sample_id)
        assert sample is not None
        scheme = _scheme(session, sample.scheme_id if scheme_id is None else scheme_id)
        if item.settled:
            raise GongkaiError(f"item {item_id} was already settled: {item.settled} by {item.settled_by} "
                               f"on {item.settled_at:%Y-%m-%d}")
        readings = _readings(session, scheme, sample)
        mine = readings[readings["id"] == item_id].iloc[0]
        if not mine["disagree"]:
            raise GongkaiError(f"item {item_id} ({item.body} · {item.obligation} · {item.item}) is not in dispute: "
                               + ("no second reading of it yet" if not mine["read"] else "both readings agree"))
        batch, what = None, "first reading kept"
        if how != "keep":
            lock_evidence(session, scheme_id=scheme.id)
            rows = _settled_rows(session, scheme, item, how, value)
            if rows is None:
                ids = store.first_records(session, scheme_id=scheme.id, item=item)
                for evidence_id in ids:
                    accounts.reject(session, evidence_id=evidence_id, reason=f"抽查 settled (sample {sample.id} "
                                    f"item {item_id}): {reason.strip()}", by=who)
                what = f"not published: {count(len(ids), 'first-reading record')} rejected"
            else:
                table = rows.astype(str)
                table.insert(0, "row", range(2, 2 + len(table)))
                table.attrs["columns"] = [c for c in table.columns if c != "row"]
                source = f"sample {sample.id} item {item_id}"
                ev = validate(table, scheme, source)
                result = repo.import_evidence(session, scheme=scheme, evidence=ev, file_name=source,
                                              sha256=hashlib.sha256(csv_bytes(table)).hexdigest(),
                                              firm=item.firm.split("、")[0], who=who.name)
                batch, what = result.batch_id, f"imported as batch {result.batch_id}"
        store.settle(session, item_id=item_id, how=how, value=value.strip(), reason=reason.strip(), who=who.name,
                     batch_id=batch)
        audit(session, who=who.name, action="sample_settle", scheme_id=scheme.id,
              detail=f"sample {sample.id} item {item_id} ({item.body} · {item.obligation} · {item.item}): "
                     f"first {mine['first_outcome']}, second {mine['second']}; {how}"
                     + (f" {value.strip()}" if value.strip() else "") + f" — {what}: {reason.strip()}")
        return batch


@_refusals_audited("sample_agreement", only=PermissionDenied)
def agreement(db: str | None, *, actor: Actor, by: str = "obligation", scheme_id: str | None = None,
              sample_id: int | None = None, draws: int = 1000) -> pd.DataFrame:
    """Agreement of the first and second readings of the sample's read items per group (obligation;
    firm: who read first; assessor: who read second): `group,n,agreement,kappa,alpha,low,high` — the
    interval a bootstrap seeded with the sample's seed (see `scoring.method.agreement`)."""
    if by not in GROUPS:
        raise GongkaiError(f"--by {by!r} is not one of: {', '.join(GROUPS)}")
    with transaction(db) as session:
        _as(session, actor, "quality")
        scheme = _scheme(session, scheme_id)
        sample = store.get_sample(session, scheme_id=scheme.id, sample_id=sample_id)
        its, seed = _readings(session, scheme, sample), sample.seed
    pairs = its[its["read"]].rename(columns={"first_outcome": "first", "second_assessor": "assessor"})
    return agreement_table(pairs, by, seed=seed, draws=draws)


# ---- self-assessment (自評): a body's own claims, never evidence -----------------------------------

SELF_HEADERS = {"單位": "body", "单位": "body", "任務編號": "obligation", "任务编号": "obligation",
                "自評": "claim", "自评": "claim", "網址": "url", "网址": "url", "發佈時間": "published_at",
                "发布时间": "published_at", "備註": "note", "备注": "note"}


def _self_rows(data: bytes, name: str, scheme: Scheme, own: str | None) -> pd.DataFrame:
    """The self-assessment file's rows (obligation, claim, url, published_at, note; body for an admin),
    every problem named by row, column and value; a body account's rows are its own body's."""
    import io

    from scoring.method.self_assessment import claim_problem

    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError) as e:
        raise EvidenceError(name, [RowProblem(1, "file", name, f"not a UTF-8 CSV table: {e}")]) from None
    frame = frame.rename(columns=lambda h: SELF_HEADERS.get(h.strip(), h.strip()))
    missing = [c for c in ("obligation", "claim") if c not in frame]
    if missing:
        raise EvidenceError(name, [RowProblem(1, c, "", "column missing") for c in missing])
    for col in ("body", "url", "published_at", "note"):
        if col not in frame:
            frame[col] = ""
    bodies = {b.id: b.id for b in scheme.bodies} | {b.name: b.id for b in scheme.bodies}
    obligations = {o.id for o in scheme.obligations}
    problems, rows = [], []
    for i, r in enumerate(frame.itertuples(), start=2):
        body = own or bodies.get(unicodedata.normalize("NFKC", r.body).strip(), "")
        if own and r.body.strip() and bodies.get(r.body.strip()) != own:
            problems.append(RowProblem(i, "body", r.body, f"a body account assesses its own body {own} only"))
        elif not body:
            problems.append(RowProblem(i, "body", r.body, "no such body (give its id or name)"))
        if r.obligation.strip() not in obligations:
            problems.append(RowProblem(i, "obligation", r.obligation, "no such obligation"))
        if why := claim_problem(r.claim):
            problems.append(RowProblem(i, "claim", r.claim, why))
        try:
            day = pd.Timestamp(r.published_at).date() if r.published_at.strip() else None
        except ValueError:
            problems.append(RowProblem(i, "published_at", r.published_at, "not a date (2017-06-10)"))
            day = None
        rows.append((body, r.obligation.strip(), r.claim.strip(), r.url.strip(), day, r.note.strip()))
    if problems:
        raise EvidenceError(name, problems)
    return pd.DataFrame(rows, columns=["body", "obligation", "claim", "url", "published_at", "note"])


@_refusals_audited("self_import")
def import_self_assessment(db: str | None, *, actor: Actor, name: str, data: bytes,
                           scheme_id: str | None = None) -> tuple[int, int]:
    """A body's self-assessment file (自評: per obligation its claim, URL, date): stored apart, never
    evidence, never scored. A body account for its own body only. Returns (new, replaced); audited."""
    from scoring.workflows.cycle import _own_body

    with transaction(db) as session:
        who = _as(session, actor, "self")
        own = _own_body(session, who, None) if who.role == "body" else None
        scheme = _scheme(session, scheme_id)
        rows = _self_rows(data, name, scheme, own)
        new, replaced = store.save_self_assessment(session, scheme_id=scheme.id, rows=rows, who=who.name)
        audit(session, who=who.name, action="self_import", scheme_id=scheme.id, sha256=hashlib.sha256(data).hexdigest(),
              detail=f"{name}: {count(len(rows), 'claim')} of {', '.join(sorted(set(rows['body'])))} "
                     f"({new} new, {replaced} replaced); never scored")
        return new, replaced


@_refusals_audited("self_compare", only=PermissionDenied)
def self_comparison(db: str | None, *, actor: Actor, body: str | None = None, scheme_id: str | None = None,
                    differing: bool = False) -> pd.DataFrame:
    """The self-assessments beside the third-party findings of the current evidence (a body account:
    its own body only); `differing`: only where they differ."""
    from scoring.method.self_assessment import compare
    from scoring.workflows.cycle import _own_body

    with transaction(db) as session:
        who = _as(session, actor, "own")
        body = _own_body(session, who, body)
        scheme = _scheme(session, scheme_id)
        claims = store.self_assessments(session, scheme_id=scheme.id, body=body)
        findings = score(scheme, repo.load_evidence(session, scheme_id=scheme.id)).findings
    table = compare(claims, findings)
    return table[table["differs"]].reset_index(drop=True) if differing else table


# ---- the annual report's quality sections ---------------------------------------------------------

def report_inputs(session: Session, card: Scorecard) -> QualityInputs:
    """What the report's quality sections show (read in the report's transaction): the scheme's latest
    sample with both readings of its items, and every body's self-assessment beside the findings of
    the run the report shows."""
    from scoring.method.self_assessment import COLUMNS as COMPARED
    from scoring.method.self_assessment import compare

    scheme = card.scheme
    claims = store.self_assessments(session, scheme_id=scheme.id)
    # the run's findings only when a body claimed something (a report of kept tables needs them for nothing else)
    claims = compare(claims, card.findings) if len(claims) else pd.DataFrame([], columns=COMPARED)
    if store.samples(session, scheme_id=scheme.id).empty:
        return QualityInputs(None, pd.DataFrame(), claims)
    sample = store.get_sample(session, scheme_id=scheme.id, sample_id=None)
    about = {k: getattr(sample, k) for k in ("id", "seed", "size", "by", "aql", "as_of", "population")}
    return QualityInputs(about, _readings(session, scheme, sample), claims)
