"""Validating evidence rows against a scheme (spec §5): every problem named by row, column and value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scoring.errors import EvidenceError, RowProblem
from scoring.intake.names import BodyResolver, normalize
from scoring.intake.tables import read_table
from scoring.method import periods
from scoring.method.kinds.periodic import period_labels
from scoring.method.kinds.request import REPLY, REQUEST_STEPS
from scoring.method.scheme import (
    ChecklistRule,
    DeadlineRule,
    DueAfter,
    PeriodicRule,
    RatingRule,
    ResponseRule,
    Scheme,
)

# spec §5 key, plus the row's shape: a rating/share value and a dated publication of the same
# obligation are different records (an obligation may carry both a deadline and a rating rule).
# `record` is the shape (`value`, `publication`) and, for the 2nd, 3rd … sighting of one item in a
# file, its number (`publication#2`): each sighting is a stored record; ITEM_KEY names the item.
KEY = ["body", "obligation", "period", "event", "step", "assessor", "record"]
ITEM_KEY = ["body", "obligation", "period", "event", "step", "assessor", "shape"]
YEARS = (1900, 2200)  # a date outside these years is a typo (2917-06-10), never evidence
EVIDENCE_COLUMNS = [
    "row", "body", "obligation", "period", "event", "event_at", "step",
    "published_at", "has_time", "value", "url", "assessor", "note", "record",
]
_DATETIME = (
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def per_distinct(text: pd.Series, func) -> pd.Series:
    """Apply a Series → Series function once per distinct value (evidence repeats values a lot)."""
    codes, uniques = pd.factorize(text)
    result = func(pd.Series(uniques, dtype=object).astype(str))
    return pd.Series(result.to_numpy()[codes], index=text.index, dtype=result.dtype)


def parse_datetimes(text: pd.Series, timezone: str) -> tuple[pd.Series, pd.Series]:
    """Parse ISO dates/date-times, `2017/5/31` and `2017年5月31日 14:00` into naive local time of
    the scheme's timezone. Returns (datetimes, has_time); unparseable values are NaT."""
    codes, uniques = pd.factorize(text)
    stamp, has_time = _parse_distinct(pd.Series(uniques, dtype=object).astype(str), timezone)
    return (pd.Series(stamp.to_numpy()[codes], index=text.index, dtype="datetime64[ns]"),
            pd.Series(has_time.to_numpy()[codes], index=text.index, dtype=bool))


def _parse_distinct(text: pd.Series, timezone: str) -> tuple[pd.Series, pd.Series]:
    t = text.str.normalize("NFKC").str.strip()
    t = t.str.replace(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*", r"\1-\2-\3 ", regex=True)
    t = t.str.replace("/", "-", regex=False).str.strip()
    parts = t.str.extract(_DATETIME)
    nums = parts.iloc[:, :6].apply(pd.to_numeric, errors="coerce")
    nums.columns = ["year", "month", "day", "hour", "minute", "second"]
    has_time = nums["hour"].notna()
    matched = nums["year"].between(*YEARS)  # outside pandas' range to_datetime would raise
    stamp = pd.to_datetime(nums.fillna(0).where(matched, 1).astype("int64"), errors="coerce")
    stamp = stamp.where(matched).astype("datetime64[ns]")
    offset = parts[6]
    if offset.notna().any():
        rows = offset.notna()
        minutes = offset[rows].map(_offset_minutes)
        utc = (stamp[rows] - pd.to_timedelta(minutes, unit="m")).dt.tz_localize("UTC")
        stamp.loc[rows] = utc.dt.tz_convert(timezone).dt.tz_localize(None).astype("datetime64[ns]")
    return stamp, has_time


def year_out_of_range(text: pd.Series) -> pd.Series:
    """Rows whose text is shaped like a date but names a year outside YEARS (e.g. 2917-06-10)."""
    def distinct(u: pd.Series) -> pd.Series:
        t = u.str.normalize("NFKC").str.strip().str.replace("/", "-", regex=False)
        year = pd.to_numeric(t.str.extract(r"^(\d{4,})\s*[-年]")[0], errors="coerce")
        return year.notna() & ~year.between(*YEARS)
    return per_distinct(text, distinct).astype(bool)


def shape_of(record: pd.Series) -> pd.Series:
    """A record's shape (`value` or `publication`) without its sighting number."""
    return per_distinct(record.astype(str), lambda u: u.str.split("#").str[0])


def item_groups(ev: pd.DataFrame, *, sighting: bool = False) -> pd.Series:
    """A 64-bit hash of each row's item (ITEM_KEY): the rows a later file replaces together; with
    `sighting`, of its full record key (KEY: the item and the sighting's number)."""
    frame = ev[KEY[:-1]].astype(str).assign(shape=ev["record"].astype(str) if sighting else shape_of(ev["record"]))
    return pd.util.hash_pandas_object(frame, index=False)


def _offset_minutes(text: str) -> int:
    if text == "Z":
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + int(digits[2:]))


class _Problems:
    def __init__(self, table: pd.DataFrame):
        self.table = table
        self.items: list[RowProblem] = []

    def add(self, mask: pd.Series, column: str, reason: str | pd.Series) -> None:
        """Record a problem for every row where mask holds (reason may vary by row)."""
        if not mask.any():
            return
        rows = self.table.loc[mask, ["row", column]]
        reasons = reason[mask] if isinstance(reason, pd.Series) else [reason] * len(rows)
        for (row, value), why in zip(rows.itertuples(index=False), reasons, strict=True):
            self.items.append(RowProblem(int(row), column, str(value), str(why)))


def _rule_shapes(scheme: Scheme) -> pd.DataFrame:
    """Per (body, obligation) assessed: which kinds of row the obligation accepts from that body."""
    rows = []
    for ob in scheme.obligations:
        for n, rule in enumerate(ob.rules):
            for body in scheme.assessed(ob, rule):
                rows.append((body, ob.id, n, rule.kind,
                             rule.frequency if isinstance(rule, PeriodicRule | RatingRule) else None))
    return pd.DataFrame(rows, columns=["body", "obligation", "rule", "kind", "frequency"])


def validate(table: pd.DataFrame, scheme: Scheme, source: str) -> pd.DataFrame:
    """Check every row of a string table (from read_table) against the scheme.

    Returns the evidence DataFrame (EVIDENCE_COLUMNS, body as id) or raises EvidenceError
    listing every problem; nothing is returned from a file with any invalid row.
    """
    p = _Problems(table)
    present = table.attrs.get("columns", list(table.columns))
    for col in ("body", "obligation"):
        if col not in present:
            raise EvidenceError(source, [RowProblem(1, col, "", f"missing column {col}")])
    tz = scheme.scheme.timezone
    ev = table.copy()

    resolver = BodyResolver((b.id, b.name, b.aliases) for b in scheme.bodies)
    resolved = {s: resolver.resolve(s) for s in ev["body"].unique()}
    ev["body"] = per_distinct(table["body"], lambda u: u.map(lambda s: resolved[s][0]))
    body_reason = per_distinct(table["body"], lambda u: u.map(lambda s: resolved[s][1]))
    p.add(ev["body"].isna() & (table["body"] == ""), "body", "empty")
    p.add(ev["body"].isna() & (table["body"] != ""), "body", body_reason)

    ob_ids = {normalize(o.id): o.id for o in scheme.obligations}
    ev["obligation"] = per_distinct(table["obligation"], lambda u: u.map(lambda s: ob_ids.get(normalize(s))))
    p.add(ev["obligation"].isna(), "obligation",
          "unknown obligation" if len(ob_ids) > 30 else "unknown obligation; valid: " + ", ".join(ob_ids.values()))
    known = ev["body"].notna() & ev["obligation"].notna()

    shapes = _rule_shapes(scheme)
    kinds = (shapes.drop_duplicates(["body", "obligation", "kind"]).assign(v=True)
             .pivot(index=["body", "obligation"], columns="kind", values="v").notna())
    pair = pd.MultiIndex.from_frame(ev[["body", "obligation"]].fillna(""))
    ev_kinds = kinds.reindex(pair, fill_value=False).set_axis(ev.index)
    assessed = pd.Series(pair.isin(kinds.index), index=ev.index)
    p.add(known & ~assessed, "obligation", "this body is not assessed on this obligation")
    ok = known & assessed

    def has(kind: str) -> pd.Series:
        return ev_kinds[kind] if kind in ev_kinds else pd.Series(False, index=ev.index)

    for col in ("period", "event", "step"):
        ev[col] = per_distinct(table[col], lambda u: u.str.normalize("NFKC").str.strip())
    ev["assessor"] = table["assessor"]
    ev["published_at"], ev["has_time"] = parse_datetimes(table["published_at"], tz)
    ev["event_at"], event_has_time = parse_datetimes(table["event_at"], tz)
    for col, stamp in (("published_at", ev["published_at"]), ("event_at", ev["event_at"])):
        far = year_out_of_range(table[col])
        p.add(ok & far, col, f"the year is outside {YEARS[0]}–{YEARS[1]}: a typo?")
        if col == "published_at":
            p.add(ok & ~far & (table[col] != "") & stamp.isna(), col,
                  "not a date or date-time (2017-05-31, 2017-05-31 14:00, 2017/5/31, 2017年5月31日 14:00)")
    event_bad = year_out_of_range(table["event_at"])

    is_event = ev["event"] != ""
    is_period = ev["period"] != ""
    is_value = table["value"] != ""
    _check_values(p, ev, table, ok & is_value, has, scheme)
    _check_periods(p, ev, ok & is_period & ~is_event, shapes, scheme)
    _check_events(p, ev, table, ok & is_event & ~event_bad & ~has("request"), has, event_has_time, scheme)
    _check_requests(p, ev, table, ok & is_event & ~event_bad & has("request"), scheme)
    _check_checks(p, ev, ok & ~is_event & (ev["step"] != ""), has, scheme)
    is_request = ok & is_event & has("request") & ev["step"].isin(["", "request"])

    ev["record"] = np.where(is_value, "value", "publication")
    dated = ok & ~is_value
    p.add(dated & ~is_event & ~is_period & ~(has("deadline") | has("count")), "published_at",
          "this obligation takes no plain publication row (give a period, an event or a value)")
    p.add(dated & ~is_request & (table["published_at"] == ""), "published_at", "missing: a publication needs its date")

    _check_before_start(p, ev, ok & dated, has, scheme)
    ev["shape"] = ev["record"]
    shared = ev.duplicated(ITEM_KEY, keep=False)  # rows whose item has other rows in the file: few
    if (shared & is_value).any():
        group = ev[shared & is_value].groupby(ITEM_KEY, dropna=False)
        first_value = group["value"].transform("first").reindex(ev.index)
        first_row = group["row"].transform("first").reindex(ev.index)
        p.add(ok & shared & is_value & ~_same(ev["value"], first_value), "value",
              "this assessor already gave this item another value in row " + first_row.astype("Int64").astype(str)
              + " (a rating or share takes one value per assessor)")

    if p.items:
        raise EvidenceError(source, sorted(p.items, key=lambda x: (x.row, x.column)))
    ev["value"] = ev["value"].astype(float)
    return _sightings(ev, has("count") & ~is_event & ~is_value, shared)


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a == b) | (a.isna() & b.isna())


def _sightings(ev: pd.DataFrame, counted: pd.Series, shared: pd.Series) -> pd.DataFrame:
    """Several rows of one item are sightings (spec §5): all kept, each a record numbered within its
    item by date (`publication`, `publication#2`, …), so the earliest is the item's first record.
    A row repeating an earlier one's date and url (and value) is the same sighting seen twice and is
    kept once. For a count rule each distinct (published_at, url) is a publication, not a sighting.
    `attrs`: rows (valid rows read) and sightings (rows that were sightings of an item already in
    the file)."""
    rows = len(ev)
    many = ev[shared]  # only items with several rows need numbering
    copy = many.duplicated([*ITEM_KEY, "published_at", "url", "event_at", "value"], keep="first")
    repeat = many.duplicated(ITEM_KEY, keep="first")
    sightings = int((copy | (repeat & ~counted[shared])).sum())
    many = many[~copy].sort_values([*ITEM_KEY, "published_at", "url", "row"], kind="stable")
    n = many.groupby(ITEM_KEY, dropna=False).cumcount()
    ev = ev.drop(index=copy.index[copy])
    ev.loc[many.index, "record"] = many["shape"].where(n == 0, many["shape"] + "#" + (n + 1).astype(str))
    out = ev[EVIDENCE_COLUMNS].reset_index(drop=True)
    out.attrs.update(rows=rows, sightings=sightings)
    return out


def _check_before_start(p: _Problems, ev: pd.DataFrame, rows: pd.Series, has, scheme: Scheme) -> None:
    """A publication dated before its item could exist is refused (criteria/README.md): before its
    period begins (periodic), before its event (response), before the deadline's anchor or the
    scheme period (deadline). Count rows are not refused: a count takes only publications dated in
    the scheme period (spec §3), so an earlier one is kept and not counted."""
    if not rows.any():
        return
    day = ev["published_at"].dt.normalize()
    periodic = rows & (ev["period"] != "") & (ev["event"] == "")
    if periodic.any():
        firsts = {s: (periods.parse(s) or (None, None))[1] for s in ev.loc[periodic, "period"].unique()}
        first = pd.to_datetime(ev["period"].map(firsts).where(periodic))
        p.add(periodic & (day < first), "published_at",
              "dated before its period begins (" + ev["period"] + "): a publication cannot precede what it reports")
    event = rows & (ev["event"] != "") & ev["event_at"].notna()
    event_day = ev["event_at"].dt.normalize()
    before = (ev["published_at"] < ev["event_at"]).where(ev["has_time"], day < event_day)
    p.add(event & before, "published_at", "dated before its event (" + ev["event_at"].astype(str)
          + "): a response cannot precede the event")
    plain = rows & (ev["period"] == "") & (ev["event"] == "") & has("deadline") & ~has("count")
    if plain.any():
        start = pd.Series(pd.NaT, index=ev.index, dtype="datetime64[ns]")
        for ob in scheme.obligations:
            for rule in ob.rules:
                if isinstance(rule, DeadlineRule):
                    anchor = _deadline_anchor(scheme, rule)
                    mine = plain & (ev["obligation"] == ob.id) & ev["body"].isin(scheme.assessed(ob, rule))
                    start = start.where(~mine | (start <= pd.Timestamp(anchor)), pd.Timestamp(anchor))
        p.add(plain & (day < start), "published_at", "dated before the item could exist (" + start.dt.strftime(
            "%Y-%m-%d") + ": the scheme period's start or the deadline's anchor)")


def _deadline_anchor(scheme: Scheme, rule: DeadlineRule):
    """The day from which a deadline item exists: its `after` anchor, else the scheme period's start."""
    h = scheme.scheme
    if isinstance(rule.due, DueAfter):
        after = rule.due.after
        return h.issued if after == "issued" else h.period.start if after == "period_start" else after
    return h.period.start


def _check_values(p: _Problems, ev: pd.DataFrame, table: pd.DataFrame, rows: pd.Series,
                  has, scheme: Scheme) -> None:
    text = per_distinct(table["value"], lambda u: u.str.normalize("NFKC").str.strip())
    pct = text.str.endswith("%")
    number = pd.to_numeric(text.str.rstrip("%"), errors="coerce")
    number = number.where(~pct, number / 100)
    ev["value"] = number.where(rows)
    takes = has("rating") | has("share") | has("checklist")
    p.add(rows & ~takes, "value", "this obligation takes no value (only rating, share and checklist rules do)")
    check = rows & has("checklist") & (ev["step"] != "") & number.notna()
    p.add(check & ~number.isin([0, 1]), "value", "a check is met (1) or not met (0)")
    p.add(rows & takes & number.isna(), "value", "not a number")
    share = rows & has("share") & number.notna()
    p.add(share & ((number <= 0) | (number > 1)), "value", "a share is between 0 and 1 (e.g. 0.04 or 4%)")
    rating = rows & has("rating") & ~has("share") & ~check & number.notna()
    p.add(rating & ((number < 0) | (number > 100)), "value", "a rating is between 0 and 100")


def _check_periods(p: _Problems, ev: pd.DataFrame, rows: pd.Series, shapes: pd.DataFrame,
                   scheme: Scheme) -> None:
    if not rows.any():
        return
    parsed = {s: periods.parse(s) for s in ev.loc[rows, "period"].unique()}
    freq = per_distinct(ev["period"], lambda u: u.map(lambda s: (parsed.get(s) or (None,))[0]))
    expected = _expected_periods(shapes, scheme)
    key = pd.MultiIndex.from_frame(ev[["body", "obligation", "period"]].fillna(""))
    fits = pd.Series(key.isin(expected), index=ev.index)
    counts = shapes[shapes["kind"] == "count"][["body", "obligation"]]
    free = pd.Series(pd.MultiIndex.from_frame(ev[["body", "obligation"]].fillna("")).isin(
        pd.MultiIndex.from_frame(counts)), index=ev.index)
    # a count rule's records may carry any label (criteria/README.md): it tells them apart, nothing more
    p.add(rows & freq.isna() & ~free, "period", "not a period (2017-03, 2017-Q1, 2017-W05, 2017)")
    p.add(rows & freq.notna() & ~fits & ~free, "period",
          "this period is not one the obligation's periodic rule expects (wrong frequency or outside its dates)")


def _expected_periods(shapes: pd.DataFrame, scheme: Scheme) -> pd.MultiIndex:
    frames = []
    for ob in scheme.obligations:
        for _n, rule in enumerate(ob.rules):
            if isinstance(rule, PeriodicRule) or (isinstance(rule, RatingRule) and rule.frequency):
                labels = period_labels(scheme, rule)
                bodies = scheme.assessed(ob, rule)
                frames.append(pd.MultiIndex.from_product([bodies, [ob.id], labels]).to_frame())
    if not frames:
        return pd.MultiIndex.from_tuples([], names=["body", "obligation", "period"])
    return pd.MultiIndex.from_frame(pd.concat(frames))


def _check_events(p: _Problems, ev: pd.DataFrame, table: pd.DataFrame, rows: pd.Series,
                  has, event_has_time: pd.Series, scheme: Scheme) -> None:
    if not rows.any():
        return
    p.add(rows & ~has("response"), "event", "this obligation has no response rule")
    resp = rows & has("response")
    p.add(resp & (table["event_at"] == ""), "event_at", "missing: an event needs its time")
    p.add(resp & (table["event_at"] != "") & ev["event_at"].isna(), "event_at", "not a date-time")
    steps: dict[str, dict[str, bool]] = {}
    for ob in scheme.obligations:
        for rule in ob.rules:
            if isinstance(rule, ResponseRule):
                for s in rule.steps:
                    steps.setdefault(ob.id, {})[s.name] = s.within.hours is not None
    table_steps = pd.Series({(o, n): h for o, named in steps.items() for n, h in named.items()}, dtype=bool)
    pairs = pd.MultiIndex.from_frame(ev[["obligation", "step"]].fillna(""))
    valid = pd.Series(pairs.isin(table_steps.index), index=ev.index)
    names = ev["obligation"].map({o: ", ".join(named) for o, named in steps.items()}).fillna("")
    p.add(resp & ~valid, "step", "unknown step; valid: " + names)
    hourly = pd.Series(table_steps.reindex(pairs, fill_value=False).to_numpy(), index=ev.index)
    p.add(resp & valid & hourly & ev["published_at"].notna() & ~ev["has_time"], "published_at",
          "an hours window needs a time of day, not just a date")
    p.add(resp & hourly & ev["event_at"].notna() & ~event_has_time, "event_at",
          "an hours window needs a time of day, not just a date")
    times = ev.loc[resp & ev["event_at"].notna()]
    spread = times.groupby(["body", "obligation", "event"])["event_at"].transform("nunique")
    clash = pd.Series(False, index=ev.index)
    clash.loc[spread.index] = spread > 1
    p.add(clash, "event_at", "rows of one event disagree on its time")


def _check_requests(p: _Problems, ev: pd.DataFrame, table: pd.DataFrame, rows: pd.Series, scheme: Scheme) -> None:
    """Test requests (驗證性申請): a request id in `event`, the day it was received in `event_at`,
    a step of `request` (the request itself), `reply` or `extension` (延期答覆告知, dated)."""
    if not rows.any():
        return
    p.add(rows & (table["event_at"] == ""), "event_at", "missing: a request needs the day it was received")
    p.add(rows & (table["event_at"] != "") & ev["event_at"].isna(), "event_at", "not a date")
    p.add(rows & ~ev["step"].isin(["", *REQUEST_STEPS]), "step",
          "unknown step; valid: " + ", ".join(REQUEST_STEPS))
    times = ev.loc[rows & ev["event_at"].notna()]
    spread = times.groupby(["body", "obligation", "event"])["event_at"].transform("nunique")
    clash = pd.Series(False, index=ev.index)
    clash.loc[spread.index] = spread > 1
    p.add(clash, "event_at", "rows of one request disagree on the day it was received")
    replies = ev.loc[rows & (ev["step"] == REPLY)]
    twice = replies.duplicated(["body", "obligation", "event", "assessor"], keep="first")
    p.add(pd.Series(twice, index=replies.index).reindex(ev.index, fill_value=False), "step",
          "this request already has a reply (keep the first reply; a later one is not a new answer)")


def _check_checks(p: _Problems, ev: pd.DataFrame, rows: pd.Series, has, scheme: Scheme) -> None:
    """A rubric's check (評分細則): its id in `step` must be one of the obligation's checks."""
    if not rows.any():
        return
    checks = {ob.id: [leaf.id for r in ob.rules if isinstance(r, ChecklistRule) for leaf, _ in r.leaves()]
              for ob in scheme.obligations}
    p.add(rows & ~has("checklist"), "step", "a step names an event's step or a check; this obligation has neither here")
    valid = pd.Series([s in checks.get(o, ()) for o, s in zip(ev["obligation"], ev["step"], strict=True)],
                      index=ev.index)
    names = ev["obligation"].map({o: ", ".join(c) for o, c in checks.items()}).fillna("")
    p.add(rows & has("checklist") & ~valid, "step", "unknown check; valid: " + names)
    p.add(rows & has("checklist") & (ev["value"].isna()), "value", "a check needs a value: 1 met, 0 not met")


def read_evidence(path: str | Path, scheme: Scheme) -> pd.DataFrame:
    """Read and validate one evidence file (CSV/XLSX)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise EvidenceError(str(p), [RowProblem(1, "file", str(p), f"cannot read: {e.strerror}")]) from None
    return validate(read_table(data, p.name), scheme, p.name)


def empty_evidence() -> pd.DataFrame:
    """An evidence frame with no rows (the engine's input when nothing was imported)."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in EVIDENCE_COLUMNS})
    frame["published_at"] = frame["published_at"].astype("datetime64[ns]")
    frame["event_at"] = frame["event_at"].astype("datetime64[ns]")
    frame["value"] = frame["value"].astype(float)
    frame["has_time"] = frame["has_time"].astype(bool)
    frame["row"] = frame["row"].astype(np.int64)
    frame["record"] = frame["record"].astype(str)
    return frame


def problem_report(table: pd.DataFrame, problems: list[RowProblem]) -> pd.DataFrame:
    """The rows with problems, as the firm sent them, with a 問題 column: fix and re-send."""
    reasons: dict[int, list[str]] = {}
    for p in problems:
        reasons.setdefault(p.row, []).append(f"{p.column}: {p.reason}")
    from scoring.intake.tables import COLUMNS

    rows = table[table["row"].isin(reasons)].copy()
    bad = rows.rename(columns=COLUMNS)
    bad.insert(0, "問題 problems", rows["row"].map(lambda r: "; ".join(reasons[r])))
    bad = bad.rename(columns={"row": "行號 row"})
    file_level = [p for p in problems if p.row not in set(table["row"])]
    if file_level:
        extra = pd.DataFrame({"行號 row": [p.row for p in file_level],
                              "問題 problems": [f"{p.column}: {p.reason}" for p in file_level]})
        bad = pd.concat([extra, bad], ignore_index=True)
    return bad.fillna("")
