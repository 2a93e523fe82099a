"""Validating evidence rows against a scheme (spec §5): every problem named by row, column and value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scoring.errors import EvidenceError, RowProblem
from scoring.intake.names import BodyResolver, normalize
from scoring.intake.tables import read_table
from scoring.method import periods
from scoring.method.kinds.periodic import expected_labels
from scoring.method.scheme import PeriodicRule, ResponseRule, Scheme

# spec §5 key, plus the row's shape: a rating/share value and a dated publication of the same
# obligation are different records (an obligation may carry both a deadline and a rating rule).
KEY = ["body", "obligation", "period", "event", "step", "assessor", "record"]
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
    matched = nums["year"].notna()
    stamp = pd.to_datetime(nums.fillna(0).where(matched, 1).astype("int64"), errors="coerce")
    stamp = stamp.where(matched).astype("datetime64[ns]")
    offset = parts[6]
    if offset.notna().any():
        rows = offset.notna()
        minutes = offset[rows].map(_offset_minutes)
        utc = (stamp[rows] - pd.to_timedelta(minutes, unit="m")).dt.tz_localize("UTC")
        stamp.loc[rows] = utc.dt.tz_convert(timezone).dt.tz_localize(None).astype("datetime64[ns]")
    return stamp, has_time


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
                             rule.frequency if isinstance(rule, PeriodicRule) else None))
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
    p.add(ok & (table["published_at"] != "") & ev["published_at"].isna(), "published_at",
          "not a date or date-time (2017-05-31, 2017-05-31 14:00, 2017/5/31, 2017年5月31日 14:00)")

    is_event = ev["event"] != ""
    is_period = ev["period"] != ""
    is_value = table["value"] != ""
    _check_values(p, ev, table, ok & is_value, has, scheme)
    _check_periods(p, ev, ok & is_period & ~is_event, shapes, scheme)
    _check_events(p, ev, table, ok & is_event, has, event_has_time, scheme)

    ev["record"] = np.where(is_value, "value", "publication")
    dated = ok & ~is_value
    p.add(dated & ~is_event & ~is_period & ~(has("deadline") | has("count")), "published_at",
          "this obligation takes no plain publication row (give a period, an event or a value)")
    p.add(dated & (table["published_at"] == ""), "published_at", "missing: a publication needs its date")

    dup = ev.duplicated(KEY, keep="first") & ok
    first_row = ev.groupby(KEY, dropna=False)["row"].transform("first")
    p.add(dup, "body", "duplicate of row " + first_row.astype(str))

    if p.items:
        raise EvidenceError(source, sorted(p.items, key=lambda x: (x.row, x.column)))
    ev["value"] = ev["value"].astype(float)
    return ev[EVIDENCE_COLUMNS].reset_index(drop=True)


def _check_values(p: _Problems, ev: pd.DataFrame, table: pd.DataFrame, rows: pd.Series,
                  has, scheme: Scheme) -> None:
    text = per_distinct(table["value"], lambda u: u.str.normalize("NFKC").str.strip())
    pct = text.str.endswith("%")
    number = pd.to_numeric(text.str.rstrip("%"), errors="coerce")
    number = number.where(~pct, number / 100)
    ev["value"] = number.where(rows)
    takes = has("rating") | has("share")
    p.add(rows & ~takes, "value", "this obligation takes no value (only rating and share rules do)")
    p.add(rows & takes & number.isna(), "value", "not a number")
    share = rows & has("share") & number.notna()
    p.add(share & ((number <= 0) | (number > 1)), "value", "a share is between 0 and 1 (e.g. 0.04 or 4%)")
    rating = rows & has("rating") & ~has("share") & number.notna()
    p.add(rating & ((number < 0) | (number > 100)), "value", "a rating is between 0 and 100")


def _check_periods(p: _Problems, ev: pd.DataFrame, rows: pd.Series, shapes: pd.DataFrame,
                   scheme: Scheme) -> None:
    if not rows.any():
        return
    parsed = {s: periods.parse(s) for s in ev.loc[rows, "period"].unique()}
    freq = per_distinct(ev["period"], lambda u: u.map(lambda s: (parsed.get(s) or (None,))[0]))
    p.add(rows & freq.isna(), "period", "not a period (2017-03, 2017-Q1, 2017-W05, 2017)")
    expected = _expected_periods(shapes, scheme)
    key = pd.MultiIndex.from_frame(ev[["body", "obligation", "period"]].fillna(""))
    fits = pd.Series(key.isin(expected), index=ev.index)
    counts = shapes[shapes["kind"] == "count"][["body", "obligation"]]
    free = pd.Series(pd.MultiIndex.from_frame(ev[["body", "obligation"]].fillna("")).isin(
        pd.MultiIndex.from_frame(counts)), index=ev.index)
    p.add(rows & freq.notna() & ~fits & ~free, "period",
          "this period is not one the obligation's periodic rule expects (wrong frequency or outside its dates)")


def _expected_periods(shapes: pd.DataFrame, scheme: Scheme) -> pd.MultiIndex:
    frames = []
    for ob in scheme.obligations:
        for _n, rule in enumerate(ob.rules):
            if isinstance(rule, PeriodicRule):
                labels = expected_labels(scheme, rule)
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
