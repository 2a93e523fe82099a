"""Validating evidence rows against a scheme (spec §5): every problem named by row, column and value."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from scoring.errors import EvidenceError, Problems, RowProblem, objects
from scoring.intake.names import BodyResolver, normalize
from scoring.intake.tables import read_table, recode
from scoring.method import periods
from scoring.method.kinds import kinds, named
from scoring.method.kinds.deadline import anchor_of
from scoring.method.kinds.periodic import period_labels
from scoring.method.kinds.request import REPLY, REQUEST_STEPS
from scoring.method.scheme import (
    ChecklistRule,
    DeadlineRule,
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
IMPOSSIBLE_TIME = ("no such time: hours run 0–23, minutes and seconds 0–59, a UTC offset at most ±14:00 "
                   "(25:00 is not read as 01:00 the next day)")
_DATETIME = (
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def _as_cat(text: pd.Series) -> pd.Series:
    """A text column as a categorical without missing codes (read_table gives categoricals)."""
    if not isinstance(text.dtype, pd.CategoricalDtype):
        return recode(text.astype(object).where(text.notna(), "").astype("str"), lambda u: u)
    return text


def _codes(text: pd.Series) -> np.ndarray:
    return text.cat.codes.to_numpy()


def _distinct(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """A categorical's distinct values (text; a trailing missing value when some rows have none)
    and each row's position among them."""
    cat = _as_cat(text)
    values, codes = pd.Series(cat.cat.categories, dtype="str"), _codes(cat)
    if len(codes) and codes.min() < 0:
        values = pd.concat([values, pd.Series([np.nan], dtype="str")], ignore_index=True)
        codes = np.where(codes < 0, len(values) - 1, codes)
    return values, codes


def per_distinct(text: pd.Series, func) -> pd.Series:
    """Apply a Series → Series function once per distinct value (evidence repeats values a lot)."""
    values, codes = _distinct(text)
    result = pd.Series(func(values))
    return pd.Series(result.array.take(codes), index=text.index)


def _nonempty(text: pd.Series) -> np.ndarray:
    """Per row: the text is not empty (a missing value counts as given, as `!= ""` does)."""
    return per_distinct(text, lambda u: u != "").to_numpy(dtype=bool, na_value=True)


def per_pair(a: pd.Series, b: pd.Series, func) -> np.ndarray:
    """func(a, b) once per distinct pair of two categoricals' values (None where missing), per row."""
    ca, cb = _codes(a).astype(np.int64) + 1, _codes(b).astype(np.int64) + 1
    width = len(b.cat.categories) + 1
    at, keys = pd.factorize(ca * width + cb)
    av, bv = [None, *a.cat.categories], [None, *b.cat.categories]
    return np.array([func(av[k // width], bv[k % width]) for k in keys.tolist()] + [None], dtype=object)[at]


def group_key(columns: list[pd.Series]) -> np.ndarray:
    """An int64 key per row of its combination of categorical columns (equal combinations, equal
    keys), computed on their integer codes, never on the text."""
    n = len(columns[0]) if columns else 0
    key = np.zeros(n, np.int64)
    for col in columns:
        cat = _as_cat(col)
        size = len(cat.cat.categories) + 1
        if n and int(key.max()) >= (1 << 62) // size:
            key = pd.factorize(key)[0].astype(np.int64)
        key = key * size + (_codes(cat).astype(np.int64) + 1)
    return key


def group_codes(columns: list[pd.Series]) -> np.ndarray:
    """Dense ids of the rows' combinations of categorical columns (equal combinations share an id)."""
    key = group_key(columns)
    return pd.factorize(key)[0] if len(key) else key


def repeated(key: np.ndarray) -> np.ndarray:
    """Per row: another row has the same key. By sorting, not hashing: a million distinct keys hash
    slowly, and the repeated ones are few."""
    s = np.sort(key)
    twice = np.unique(s[1:][s[1:] == s[:-1]])
    if not len(twice):
        return np.zeros(len(key), dtype=bool)
    at = np.minimum(np.searchsorted(twice, key), len(twice) - 1)
    return twice[at] == key


def _text(column: pd.Series) -> pd.Series:
    """A categorical column back as plain text (the evidence frame's dtype)."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return column
    categories = pd.Index(column.cat.categories).astype("str")
    return pd.Series(categories.array.take(_codes(column), allow_fill=True), index=column.index)


def parse_datetimes(text: pd.Series, timezone: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse ISO dates/date-times, `2017/5/31` and `2017年5月31日 14:00` into naive local time of
    the scheme's timezone. Returns (datetimes, has_time, impossible); unparseable values are NaT.
    `impossible` marks a time no clock shows (25:00, 23:60, an offset beyond ±14:00): NaT too, never
    rolled over into the next day or hour."""
    values, codes = _distinct(text)
    stamp, has_time, impossible = _parse_distinct(values.astype(object).astype(str), timezone)
    return (pd.Series(stamp.to_numpy(dtype="datetime64[ns]")[codes], index=text.index, dtype="datetime64[ns]"),
            pd.Series(has_time.to_numpy(dtype=bool)[codes], index=text.index, dtype=bool),
            pd.Series(impossible.to_numpy(dtype=bool)[codes], index=text.index, dtype=bool))


def _impossible_clock(nums: pd.DataFrame, offset: pd.Series) -> pd.Series:
    """Per value: an hour over 23, a minute or second over 59, or a UTC offset beyond ±14:00 or
    with over 59 minutes — pandas would roll these over (25:00 → 01:00 the next day)."""
    bad = (nums["hour"] > 23) | (nums["minute"] > 59) | (nums["second"] > 59)
    given = offset.notna() & (offset != "Z")
    if given.any():  # few values carry an offset
        digits = offset[given].str.replace(":", "", regex=False).str.slice(1)  # "+08:00" → "0800"
        hours, minutes = digits.str.slice(0, 2).astype(int), digits.str.slice(2).astype(int)
        bad[given] |= (hours > 14) | (minutes > 59) | ((hours == 14) & (minutes > 0))
    return bad


def _parse_distinct(text: pd.Series, timezone: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    t = text.str.normalize("NFKC").str.strip()
    t = t.str.replace(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*", r"\1-\2-\3 ", regex=True)
    t = t.str.replace("/", "-", regex=False).str.strip()
    parts = t.str.extract(_DATETIME)
    nums = parts.iloc[:, :6].apply(pd.to_numeric, errors="coerce")
    nums.columns = ["year", "month", "day", "hour", "minute", "second"]
    has_time = nums["hour"].notna()
    offset = parts[6]
    impossible = _impossible_clock(nums, offset)
    matched = nums["year"].between(*YEARS) & ~impossible  # outside pandas' range to_datetime would raise
    stamp = pd.to_datetime(nums.fillna(0).where(matched, 1).astype("int64"), errors="coerce")
    stamp = stamp.where(matched).astype("datetime64[ns]")
    offset = offset.where(matched)
    if offset.notna().any():
        rows = offset.notna()
        minutes = offset[rows].map(_offset_minutes)
        utc = (stamp[rows] - pd.to_timedelta(minutes, unit="m")).dt.tz_localize("UTC")
        stamp.loc[rows] = utc.dt.tz_convert(timezone).dt.tz_localize(None).astype("datetime64[ns]")
    return stamp, has_time, impossible


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


def _mask(m) -> np.ndarray:
    if isinstance(m, pd.Series):
        return m.to_numpy(dtype=bool, na_value=False)
    return np.asarray(m, dtype=bool)


class _Problems:
    """Problems found so far, a column block per check. A mask is per row; a reason is a text, a per-row
    array or Series, or a function of the problem rows' positions (so a reason naming a value is built
    for those rows only)."""

    def __init__(self, table: pd.DataFrame):
        self.table = table
        self.rows = table["row"].to_numpy()
        self.found: list[Problems] = []

    def __bool__(self) -> bool:
        return bool(self.found)

    def add(self, mask, column: str, reason) -> None:
        """Record a problem for every row where mask holds (reason may vary by row)."""
        at = np.flatnonzero(_mask(mask))
        if not len(at):
            return
        values = _text(self.table[column].iloc[at])
        values = values.fillna("nan") if values.isna().any() else values  # as str(NaN) was
        if callable(reason):
            reasons = objects(str(w) for w in reason(at))
        elif isinstance(reason, pd.Series | np.ndarray):
            reasons = objects(str(w) for w in np.asarray(reason, dtype=object)[at])
        else:
            reasons = np.full(len(at), str(reason), dtype=object)
        self.found.append(Problems(self.rows[at], np.full(len(at), column, dtype=object),
                                   values.to_numpy(dtype=object), reasons))

    def by_row(self) -> Problems:
        """Every problem found, by row and column."""
        return Problems.concat(self.found).by_row()


def body_resolver(scheme: Scheme) -> BodyResolver:
    """The scheme's body-name index (every id, name and alias folded), built once per scheme."""
    return scheme.memo("intake.body_resolver", lambda: BodyResolver((b.id, b.name, b.aliases) for b in scheme.bodies))


class _Index:
    """Where the scheme's bodies and obligations are among a file's distinct (resolved) values, and
    which rows name each obligation: checks run per obligation on integer codes."""

    def __init__(self, ev: pd.DataFrame):
        self.body = {b: i for i, b in enumerate(ev["body"].cat.categories)}
        self.obligation = {o: i for i, o in enumerate(ev["obligation"].cat.categories)}
        self.body_codes, ob_codes = _codes(ev["body"]), _codes(ev["obligation"])
        order = np.argsort(ob_codes, kind="stable")
        bounds = np.searchsorted(ob_codes[order], np.arange(len(self.obligation) + 1))
        self._rows = {o: order[bounds[i]:bounds[i + 1]] for o, i in self.obligation.items()}

    def bodies(self, ids) -> np.ndarray:
        """Over the file's body values (and a last slot for rows without a known body): which are among `ids`."""
        out = np.zeros(len(self.body) + 1, bool)
        out[[self.body[b] for b in ids if b in self.body]] = True
        return out

    def rows_of(self, obligation: str) -> np.ndarray:
        """Positions of the rows of an obligation."""
        return self._rows.get(obligation, np.array([], np.int64))

    def assessed(self, at: np.ndarray, bodies) -> np.ndarray:
        """Of the rows at `at`: whose body is among `bodies`."""
        return self.bodies(bodies)[self.body_codes[at]]


def _kinds(ix: _Index, scheme: Scheme, n: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per row: which rule kinds its (body, obligation) is assessed on, and whether it is assessed."""
    has: dict[str, np.ndarray] = {}
    assessed = np.zeros(n, bool)
    for ob in scheme.obligations:
        at = ix.rows_of(ob.id)
        if not len(at):
            continue
        for rule in ob.rules:
            hit = ix.assessed(at, scheme.assessed(ob, rule))
            has.setdefault(rule.kind, np.zeros(n, bool))[at] |= hit
            assessed[at] |= hit
    return has, assessed


def validate(table: pd.DataFrame, scheme: Scheme, source: str) -> pd.DataFrame:
    """Check every row of a string table (from read_table) against the scheme.

    Returns the evidence DataFrame (EVIDENCE_COLUMNS, body as id) or raises EvidenceError
    listing every problem; nothing is returned from a file with any invalid row. Every check runs
    once per distinct value or on the rows' integer codes, never per row in Python.
    """
    present = table.attrs.get("columns", list(table.columns))
    for col in ("body", "obligation"):
        if col not in present:
            raise EvidenceError(source, [RowProblem(1, col, "", f"missing column {col}")])
    table = pd.DataFrame({c: table[c].to_numpy() if c == "row" else _as_cat(table[c]).array
                          for c in table.columns})
    p = _Problems(table)
    tz = scheme.scheme.timezone
    ev = pd.DataFrame({"row": table["row"].to_numpy()})

    resolver = body_resolver(scheme)
    resolved = [resolver.resolve(s) for s in table["body"].cat.categories]
    ev["body"] = recode(table["body"], lambda u: pd.Series([r[0] for r in resolved], dtype=object))
    body_reason = np.array([r[1] for r in resolved] + [None], dtype=object)
    no_body = ev["body"].isna().to_numpy()
    given = _nonempty(table["body"])
    p.add(no_body & ~given, "body", "empty")
    p.add(no_body & given, "body", lambda at: body_reason[_codes(table["body"])[at]])

    ob_ids = {normalize(o.id): o.id for o in scheme.obligations}
    ev["obligation"] = recode(table["obligation"], lambda u: u.map(lambda s: ob_ids.get(normalize(s))))
    no_ob = ev["obligation"].isna().to_numpy()
    p.add(no_ob, "obligation",
          "unknown obligation" if len(ob_ids) > 30 else "unknown obligation; valid: " + ", ".join(ob_ids.values()))
    known = ~no_body & ~no_ob

    ix = _Index(ev)
    kinds, assessed = _kinds(ix, scheme, len(ev))
    p.add(known & ~assessed, "obligation", "this body is not assessed on this obligation")
    ok = known & assessed

    def has(kind: str) -> np.ndarray:
        return kinds[kind] if kind in kinds else np.zeros(len(ev), bool)

    for col in ("period", "event", "step"):
        ev[col] = recode(table[col], lambda u: u.str.normalize("NFKC").str.strip())
    ev["assessor"], ev["url"], ev["note"] = table["assessor"], table["url"], table["note"]
    ev["published_at"], ev["has_time"], impossible = parse_datetimes(table["published_at"], tz)
    ev["event_at"], event_has_time, impossible_event = parse_datetimes(table["event_at"], tz)
    event_bad = np.zeros(len(ev), bool)
    for col, clock in (("published_at", impossible), ("event_at", impossible_event)):
        far = _mask(year_out_of_range(table[col]))
        p.add(ok & far, col, f"the year is outside {YEARS[0]}–{YEARS[1]}: a typo?")
        no_clock = _mask(clock) & ~far
        p.add(ok & no_clock, col, IMPOSSIBLE_TIME)
        if col == "published_at":
            p.add(ok & ~far & ~no_clock & _nonempty(table[col]) & ev[col].isna().to_numpy(), col,
                  "not a date or date-time (2017-05-31, 2017-05-31 14:00, 2017/5/31, 2017年5月31日 14:00)")
        else:
            event_bad = far | no_clock

    is_event = _nonempty(ev["event"])
    is_period = _nonempty(ev["period"])
    is_value = _nonempty(table["value"])
    is_step = _nonempty(ev["step"])
    _check_values(p, ev, table, ok & is_value, is_step, has)
    _check_periods(p, ev, ix, ok & is_period & ~is_event, scheme)
    _check_events(p, ev, ok & is_event & ~event_bad & ~has("request"), has, event_has_time, scheme)
    _check_requests(p, ev, ok & is_event & ~event_bad & has("request"))
    _check_checks(p, ev, ok & ~is_event & is_step, has, scheme)
    is_request = ok & is_event & has("request") & ev["step"].isin(["", "request"]).to_numpy()

    record = pd.Series(pd.Categorical.from_codes(is_value.astype(np.int8), validate=False,
                                                 categories=pd.Index(["publication", "value"], dtype="str")))
    ev["record"] = record
    dated = ok & ~is_value
    plain = np.zeros(len(ev), bool)  # kinds whose item is the kind itself, dated (deadline, count)
    for name in named(lambda k: not k.item_columns and k.values is None):
        plain |= has(name)
    p.add(dated & ~is_event & ~is_period & ~plain, "published_at",
          "this obligation takes no plain publication row (give a period, an event or a value)")
    p.add(dated & ~is_request & ~_nonempty(table["published_at"]), "published_at",
          "missing: a publication needs its date")

    _check_before_start(p, ev, ix, ok & dated, is_period, is_event, has, scheme)
    ev["shape"] = record
    item = group_key([ev[c] for c in ITEM_KEY])
    shared = repeated(item)  # items with other rows: few
    if (shared & is_value).any():
        at = np.flatnonzero(shared & is_value)
        group = pd.DataFrame({"item": item[at], "value": ev["value"].to_numpy()[at], "row": ev["row"].to_numpy()[at]})
        first = group.groupby("item")[["value", "row"]].transform("first")
        differ = np.zeros(len(ev), bool)
        differ[at] = ~_same(group["value"], first["value"]).to_numpy()
        first_row = np.zeros(len(ev), np.int64)
        first_row[at] = first["row"].to_numpy()
        p.add(ok & differ, "value", lambda rows: [
            f"this assessor already gave this item another value in row {r} (a rating or share takes one value per assessor)"
            for r in first_row[rows].tolist()])

    if p:
        raise EvidenceError(source, p.by_row())
    ev["value"] = ev["value"].astype(float)
    return _sightings(ev, has("count") & ~is_event & ~is_value, shared)


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a == b) | (a.isna() & b.isna())


def _sightings(ev: pd.DataFrame, counted: np.ndarray, shared: np.ndarray) -> pd.DataFrame:
    """Several rows of one item are sightings (spec §5): all kept, each a record numbered within its
    item by date (`publication`, `publication#2`, …), so the earliest is the item's first record.
    A row repeating an earlier one's date and url (and value) is the same sighting seen twice and is
    kept once. For a count rule each distinct (published_at, url) is a publication, not a sighting.
    `attrs`: rows (valid rows read) and sightings (rows that were sightings of an item already in
    the file)."""
    rows = len(ev)
    for col in ("body", "obligation", "period", "event", "step", "url", "assessor", "note", "record"):
        ev[col] = _text(ev[col])
    many = ev[shared]  # only items with several rows need numbering
    many = many.assign(shape=_text(many["shape"]))
    copy = many.duplicated([*ITEM_KEY, "published_at", "url", "event_at", "value"], keep="first")
    repeat = many.duplicated(ITEM_KEY, keep="first")
    sightings = int((copy | (repeat & ~counted[shared])).sum())
    many = many[~copy].sort_values([*ITEM_KEY, "published_at", "url", "row"], kind="stable")
    n = many.groupby(ITEM_KEY, dropna=False).cumcount()
    if copy.any():
        ev = ev.drop(index=copy.index[copy])
    ev.loc[many.index, "record"] = many["shape"].where(n == 0, many["shape"] + "#" + (n + 1).astype(str))
    out = ev[EVIDENCE_COLUMNS].reset_index(drop=True)
    out.attrs.update(rows=rows, sightings=sightings)
    return out


def _check_before_start(p: _Problems, ev: pd.DataFrame, ix: _Index, rows: np.ndarray, is_period: np.ndarray,
                        is_event: np.ndarray, has, scheme: Scheme) -> None:
    """A publication dated before its item could exist is refused (criteria/README.md): before its
    period begins (periodic), before its event (response), before the deadline's anchor or the
    scheme period (deadline). Count rows are not refused: a count takes only publications dated in
    the scheme period (spec §3), so an earlier one is kept and not counted."""
    if not rows.any():
        return
    day = ev["published_at"].dt.normalize().to_numpy()
    periodic = rows & is_period & ~is_event
    if periodic.any():
        labels, codes = _distinct(ev["period"])
        firsts = np.array([np.datetime64((periods.parse(s) or (None, None))[1] or "NaT", "ns")
                           if isinstance(s, str) else np.datetime64("NaT", "ns") for s in labels.tolist()],
                          dtype="datetime64[ns]")
        first = firsts[codes]
        p.add(periodic & (day < first), "published_at", lambda at: [
            f"dated before its period begins ({s}): a publication cannot precede what it reports"
            for s in labels.to_numpy(dtype=object)[codes[at]]])
    event = rows & is_event & ev["event_at"].notna().to_numpy()
    if event.any():
        before = np.where(ev["has_time"].to_numpy(), ev["published_at"].to_numpy() < ev["event_at"].to_numpy(),
                          day < ev["event_at"].dt.normalize().to_numpy())
        stamps = ev["event_at"]
        p.add(event & before, "published_at", lambda at: [
            f"dated before its event ({s}): a response cannot precede the event" for s in stamps.iloc[at].astype(str)])
    plain = rows & ~is_period & ~is_event & has("deadline") & ~has("count")
    if plain.any():
        start = np.full(len(ev), np.datetime64("NaT"), dtype="datetime64[ns]")
        for ob in scheme.obligations:
            for rule in ob.rules:
                if isinstance(rule, DeadlineRule):
                    anchor = np.datetime64(pd.Timestamp(anchor_of(scheme, rule)), "ns")
                    at = ix.rows_of(ob.id)
                    at = at[plain[at] & ix.assessed(at, scheme.assessed(ob, rule))]
                    start[at] = np.where(np.isnat(start[at]) | (start[at] > anchor), anchor, start[at])
        starts = pd.Series(start)
        p.add(plain & (day < start), "published_at", lambda at: [
            f"dated before the item could exist ({s}: the scheme period's start or the deadline's anchor)"
            for s in starts.iloc[at].dt.strftime("%Y-%m-%d")])


def _check_values(p: _Problems, ev: pd.DataFrame, table: pd.DataFrame, rows: np.ndarray, is_step: np.ndarray,
                  has) -> None:
    def number_of(u: pd.Series) -> pd.Series:
        text = u.str.normalize("NFKC").str.strip()
        pct = text.str.endswith("%")
        number = pd.to_numeric(text.str.rstrip("%"), errors="coerce").astype(float)
        return number.where(~pct, number / 100)
    number = per_distinct(table["value"], number_of).to_numpy(dtype=float, na_value=np.nan)
    ev["value"] = np.where(rows, number, np.nan)
    known = ~np.isnan(number)
    valued = {k.name: k.values for k in kinds() if k.values is not None}  # rating, share, checklist: as declared
    takes = np.zeros(len(rows), bool)
    for name in valued:
        takes |= has(name)
    names = list(valued)
    p.add(rows & ~takes, "value", f"this obligation takes no value (only {', '.join(names[:-1])} and {names[-1]} "
                                  "rules do)")
    p.add(rows & takes & ~known, "value", "not a number")
    # a row is checked against one kind's range: a rubric's check (a row naming a step) first, then
    # the narrowest range (a share of 0–1 before a rating of 0–100)
    claimed = np.zeros(len(rows), bool)
    for name, values in sorted(valued.items(), key=lambda kv: (not kv[1].steps, kv[1].high - kv[1].low)):
        mine = rows & has(name) & known & ~claimed & (is_step if values.steps else True)
        claimed |= mine
        p.add(mine & values.refuses(number), "value", values.refusal)


def _check_periods(p: _Problems, ev: pd.DataFrame, ix: _Index, rows: np.ndarray, scheme: Scheme) -> None:
    """A periodic row's period must be a period label, and one its obligation's periodic rule (or
    periodic rating) expects of its body; a count rule's records may carry any label
    (criteria/README.md): it tells them apart, nothing more."""
    if not rows.any():
        return
    labels, codes = _distinct(ev["period"])
    values = labels.to_numpy(dtype=object)
    is_label = np.array([isinstance(s, str) and periods.parse(s) is not None for s in values], dtype=bool)[codes]
    fits = np.zeros(len(ev), bool)
    free = np.zeros(len(ev), bool)
    for ob in scheme.obligations:
        at = ix.rows_of(ob.id)
        if not len(at):
            continue
        for rule in ob.rules:
            if isinstance(rule, PeriodicRule) or (isinstance(rule, RatingRule) and rule.frequency):
                wanted = pd.Index(values).isin(period_labels(scheme, rule))
                fits[at] |= wanted[codes[at]] & ix.assessed(at, scheme.assessed(ob, rule))
            elif rule.kind == "count":
                free[at] |= ix.assessed(at, scheme.assessed(ob, rule))
    p.add(rows & ~is_label & ~free, "period", "not a period (2017-03, 2017-Q1, 2017-W05, 2017)")
    p.add(rows & is_label & ~fits & ~free, "period",
          "this period is not one the obligation's periodic rule expects (wrong frequency or outside its dates)")


def _check_events(p: _Problems, ev: pd.DataFrame, rows: np.ndarray, has, event_has_time: pd.Series,
                  scheme: Scheme) -> None:
    if not rows.any():
        return
    p.add(rows & ~has("response"), "event", "this obligation has no response rule")
    resp = rows & has("response")
    given = _nonempty(p.table["event_at"])
    stamped = ev["event_at"].notna().to_numpy()
    p.add(resp & ~given, "event_at", "missing: an event needs its time")
    p.add(resp & given & ~stamped, "event_at", "not a date-time")
    steps: dict[str, dict[str, bool]] = {}
    for ob in scheme.obligations:
        for rule in ob.rules:
            if isinstance(rule, ResponseRule):
                for s in rule.steps:
                    steps.setdefault(ob.id, {})[s.name] = s.within.hours is not None
    valid = per_pair(ev["obligation"], ev["step"], lambda o, s: s in steps.get(o, {})).astype(bool)
    hourly = per_pair(ev["obligation"], ev["step"], lambda o, s: steps.get(o, {}).get(s, False)).astype(bool)
    names = {o: ", ".join(named) for o, named in steps.items()}
    obligations = ev["obligation"]
    p.add(resp & ~valid, "step", lambda at: ["unknown step; valid: " + names.get(o, "")
                                              for o in _text(obligations.iloc[at]).fillna("").tolist()])
    p.add(resp & valid & hourly & ev["published_at"].notna().to_numpy() & ~ev["has_time"].to_numpy(), "published_at",
          "an hours window needs a time of day, not just a date")
    p.add(resp & hourly & stamped & ~event_has_time.to_numpy(), "event_at",
          "an hours window needs a time of day, not just a date")
    p.add(_disagree(ev, resp & stamped), "event_at", "rows of one event disagree on its time")


def _disagree(ev: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Of the rows: those of an event (body, obligation, event) whose rows give different times."""
    at = np.flatnonzero(rows)
    out = np.zeros(len(ev), bool)
    if len(at):
        key = group_codes([ev[c].iloc[at] for c in ("body", "obligation", "event")])
        spread = pd.Series(ev["event_at"].to_numpy()[at]).groupby(key).transform("nunique")
        out[at] = spread.to_numpy() > 1
    return out


def _check_requests(p: _Problems, ev: pd.DataFrame, rows: np.ndarray) -> None:
    """Test requests (驗證性申請): a request id in `event`, the day it was received in `event_at`,
    a step of `request` (the request itself), `reply` or `extension` (延期答覆告知, dated)."""
    if not rows.any():
        return
    given = _nonempty(p.table["event_at"])
    stamped = ev["event_at"].notna().to_numpy()
    p.add(rows & ~given, "event_at", "missing: a request needs the day it was received")
    p.add(rows & given & ~stamped, "event_at", "not a date")
    p.add(rows & ~ev["step"].isin(["", *REQUEST_STEPS]).to_numpy(), "step",
          "unknown step; valid: " + ", ".join(REQUEST_STEPS))
    p.add(_disagree(ev, rows & stamped), "event_at", "rows of one request disagree on the day it was received")
    at = np.flatnonzero(rows & (ev["step"] == REPLY).to_numpy())
    twice = np.zeros(len(ev), bool)
    if len(at):
        key = group_codes([ev[c].iloc[at] for c in ("body", "obligation", "event", "assessor")])
        twice[at] = pd.Series(key).duplicated(keep="first").to_numpy()
    p.add(twice, "step", "this request already has a reply (keep the first reply; a later one is not a new answer)")


def _check_checks(p: _Problems, ev: pd.DataFrame, rows: np.ndarray, has, scheme: Scheme) -> None:
    """A rubric's check (評分細則): its id in `step` must be one of the obligation's checks."""
    if not rows.any():
        return
    checks = {ob.id: [leaf.id for r in ob.rules if isinstance(r, ChecklistRule) for leaf, _ in r.leaves()]
              for ob in scheme.obligations}
    p.add(rows & ~has("checklist"), "step", "a step names an event's step or a check; this obligation has neither here")
    valid = per_pair(ev["obligation"], ev["step"], lambda o, s: s in checks.get(o, ())).astype(bool)
    names = {o: ", ".join(c) for o, c in checks.items()}
    obligations = ev["obligation"]
    p.add(rows & has("checklist") & ~valid, "step", lambda at: ["unknown check; valid: " + names.get(o, "")
                                                                 for o in _text(obligations.iloc[at]).fillna("").tolist()])
    p.add(rows & has("checklist") & np.isnan(ev["value"].to_numpy(dtype=float)), "value",
          "a check needs a value: 1 met, 0 not met")


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


def _problem_texts(found: Problems) -> pa.Array:
    """"column: reason" of each problem, made once per distinct pair (a million problems have few)."""
    column, columns = pd.factorize(found.column)
    reason, reasons = pd.factorize(found.reason)
    width = max(len(reasons), 1)
    pair, pairs = pd.factorize(column.astype(np.int64) * width + reason)
    texts = [f"{columns[p // width]}: {reasons[p % width]}" for p in pairs.tolist()]
    return pa.array(texts, pa.string()).take(pa.array(pair))


def problem_report(table: pd.DataFrame, problems: Sequence[RowProblem]) -> pd.DataFrame:
    """The rows with problems, as the firm sent them, with a 問題 column: fix and re-send. Columnar and
    linear in the rows and problems (a file whose every row is wrong is reported as fast as it is read)."""
    from scoring.intake.tables import COLUMNS

    found = Problems.of(problems)
    texts = _problem_texts(found)
    read = np.isin(found.row, table["row"].to_numpy())
    order = np.argsort(found.row[read], kind="stable")  # a row's problems together, in the order found
    rows, texts_read = found.row[read][order], texts.filter(pa.array(read)).take(pa.array(order))
    first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if len(rows) else np.array([], np.int64)
    if len(first) < len(rows):  # some rows have several problems: "a: …; b: …"
        texts_read = pc.binary_join(pa.ListArray.from_arrays(pa.array(np.r_[first, len(rows)], pa.int32()),
                                                              texts_read), "; ")
    rows = rows[first]

    at = table["row"].to_numpy()
    where = np.minimum(np.searchsorted(rows, at), max(len(rows) - 1, 0))
    hit = (rows[where] == at) if len(rows) else np.zeros(len(at), bool)
    picked = table[hit]
    picked = picked.assign(**{c: _text(picked[c]) for c in picked.columns
                              if isinstance(picked[c].dtype, pd.CategoricalDtype)})
    bad = picked.rename(columns=COLUMNS)
    bad.insert(0, "問題 problems", pd.array(texts_read.take(pa.array(where[hit])), dtype="str"))
    bad = bad.rename(columns={"row": "行號 row"})
    if not read.all():  # file-level problems (row 1: the header, the file itself), one line each
        extra = pd.DataFrame({"行號 row": found.row[~read], "問題 problems": pd.array(texts.filter(pa.array(~read)), dtype="str")})
        bad = pd.concat([extra, bad], ignore_index=True)
    return bad.fillna("")
