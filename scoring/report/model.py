"""The annual report (年度政務公開考核報告) as data: named tables and per-body sections from one
scoring run, written by `scoring.report.write` (xlsx, docx, html, pdf).

Tables keep semantic column keys (`rank`, `name`, `lost` …); a writer picks columns by key and
translates them only when it writes (`header`, `headed`). Built for every body at once: one pass over
the findings (3,237 bodies at national scale), never one `explained()` per body."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from scoring.i18n import script, text
from scoring.method import LOST
from scoring.method import kinds as rule_kinds
from scoring.method.engine import Scorecard
from scoring.method.explain import (
    evidence_item,
    late_texts,
    lateness,
    losses,
    share_status,
    worst_first,
)
from scoring.method.robustness import robustness
from scoring.report import quality as quality_section
from scoring.store.repository import EvidenceSummary
from scoring.synthetic import demo

BODY_KINDS_SHOWN = ("city", "department", "county")  # body kinds in the order the report shows them
# period labels (scoring.method.periods) → words: 2017-03 → 2017年3月, 2017-Q1 → 2017年第1季度 …
_PERIODS = (("period_day", re.compile(r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<n>\d{2})$")),
            ("period_week", re.compile(r"^(?P<y>\d{4})-W(?P<n>\d{2})$")),
            ("period_month", re.compile(r"^(?P<y>\d{4})-(?P<n>\d{2})$")),
            ("period_quarter", re.compile(r"^(?P<y>\d{4})-Q(?P<n>[1-4])$")),
            ("period_year", re.compile(r"^(?P<y>\d{4})$")),
            ("period_pentad", re.compile(r"^(?P<y>\d{4})-(?P<m>\d{2})-P(?P<n>[1-6])$")))


# a table column's key → its header's text key (scoring.i18n); `grade:<name>` columns are the
# scheme's grade names (counts per grade)
HEADERS = {
    "kind": "report_kind", "bodies": "bodies_assessed", "average": "average", "share": "share_compliance",
    "rank": "rank", "name": "name", "score": "score", "grade": "grade", "share_rule": "share_rule", "veto": "veto",
    "obligation": "filter_obligation", "title": "obligation_title", "lost": "finding_lost", "rule": "finding_rule",
    "item": "finding_item", "due": "finding_due", "published": "finding_published", "outcome": "finding_outcome",
    "late": "finding_late", "section": "report_section", "points": "points", "rules": "rules",
    "quote": "report_quote", "url": "report_url", "note": "report_note", "file": "report_attachment",
    "sha": "report_sha256", "body_kind": "body_kind", "rank_interval": "rank_interval",
    "p_same_grade": "p_same_grade", "yoy_previous": "yoy_previous_score", "yoy_change": "yoy_change",
    "yoy_rank": "yoy_rank", "yoy_comparable": "yoy_comparable"}
GRADE = "grade:"   # prefix of a summary column counting one grade


def header(key: str, lang: str) -> str:
    """A column's header in the report's language."""
    return script(key.removeprefix(GRADE), lang) if key.startswith(GRADE) else text(HEADERS[key], lang)


def headed(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A table with its headers translated, for a writer that shows headers as they are (a sheet)."""
    return frame.rename(columns={k: header(k, lang) for k in frame.columns})


def item_text(item: str, lang: str) -> str:
    """An item in words: a rule kind's item (deadline, rating …) by its name, a period label as a
    date phrase, an event/step in the report's script."""
    if item in rule_kinds.MODULES:  # the one item per body of a kind (deadline, rating …): the kind's word
        return rule_kinds.words(item, lang)
    for key, pattern in _PERIODS:
        m = pattern.match(item)
        if m:
            return text(key, lang).format(**{k: int(v) for k, v in m.groupdict().items()})
    return script(item, lang)


def rule_text(kind: str, label: str | None, lang: str) -> str:
    """A rule in words: its kind, and its label from the scheme in the report's script."""
    word = rule_kinds.words(kind, lang)
    return f"{word}（{script(label, lang)}）" if label and label != kind else word


def decimals(values: pd.Series) -> int:
    """The decimals a number column is shown with: the fewest (0–2) that show every value rounded
    to 2 places, so one column has one format (27.87 beside 0.00, never beside 0)."""
    return int(_decimals_needed(values).max(initial=0))


def _decimals_needed(values: pd.Series) -> np.ndarray:
    """Per value, the decimals (0–2) it needs rounded to 2 places; 0 for no value."""
    v = np.round(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan), 2)
    need = np.where(np.round(v, 6) % 1 == 0, 0, np.where(np.round(v * 10, 6) % 1 == 0, 1, 2))
    need[np.isnan(v)] = 0
    return need


def numeric_columns(frame: pd.DataFrame) -> list[bool]:
    """Which of a table's columns are numbers (shown right-aligned, one format each)."""
    return [pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in frame.dtypes]


def cells(frame: pd.DataFrame, groups: np.ndarray | None = None) -> tuple[list[list[str]], list[bool]]:
    """A table's cells as text, one number format per column, and which columns are numbers.
    `groups`: the first row of each of the tables `frame` holds one after the other (every body's
    findings at once): each table's columns get their own format, as if each were passed alone."""
    columns, numeric = [], numeric_columns(frame)
    starts = np.asarray(groups if groups is not None else [0], dtype=np.int64)
    for is_num, (_, col) in zip(numeric, frame.items(), strict=True):
        values = col.tolist()   # plain Python values: iterating an Arrow-backed column is slow
        if is_num:
            formats = [f"{{:.{d}f}}" for d in range(3)]
            need = _decimals_needed(col)
            per_row = np.repeat(np.maximum.reduceat(need, starts), np.diff([*starts, len(col)])) if len(col) else need
            columns.append(["" if v is None or v is pd.NA or v != v else formats[d].format(float(v))
                            for v, d in zip(values, per_row.tolist(), strict=True)])
        else:
            columns.append(["" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in values])
    return [list(r) for r in zip(*columns, strict=True)] if columns else [], numeric


@dataclass
class Report:
    """Everything the report shows, in the chosen language."""

    lang: str
    card: Scorecard
    run_id: int | None
    generated: dt.datetime
    evidence: EvidenceSummary
    summary: pd.DataFrame
    rankings: dict[str, pd.DataFrame]
    bodies: list[dict]          # per scored body: name, score … and its rows of `gaps` and `findings`
    method: pd.DataFrame
    appendix: pd.DataFrame

    synthetic: bool = False
    robustness: pd.DataFrame = field(default_factory=pd.DataFrame)  # rank intervals (docs/method.md §7)
    previous: str = ""                                               # the scheme of the year before, if compared
    year_over_year: pd.DataFrame = field(default_factory=pd.DataFrame)  # docs/method.md §8
    quality_inputs: quality_section.QualityInputs = field(default_factory=quality_section.QualityInputs)
    # sections built by their own modules, before the method: 抽查 and 自評 (report/quality.py), 網站檢查
    # (report/inspection.py)
    sections: list[quality_section.Section] = field(default_factory=list)
    # the appendix written apart (a CSV beside the report, `write.APPENDIX_INLINE`): its file and rows
    appendix_file: str = ""
    appendix_rows: int = 0
    # the body sections written apart (`write.BODIES_INLINE`): their two files, and how many bodies
    bodies_files: tuple[str, str] = ("", "")
    bodies_apart: int = 0
    gaps: pd.DataFrame = field(default_factory=pd.DataFrame)       # every body's gaps, largest first
    findings: pd.DataFrame = field(default_factory=pd.DataFrame)   # every body's costliest findings
    starts: dict[str, np.ndarray] = field(default_factory=dict)      # where each body's rows begin in them
    kept_csv: dict[str, Path] = field(default_factory=dict)         # where a part's CSV is kept (`Kept.csv`)
    kept_charts: Path | None = None                                  # where chart images are kept (`Kept.charts`)

    def section_cells(self, section: dict, part: str) -> list[list[str]]:
        """A body's gaps or findings (`part`) as the cells of its own table (`cells`)."""
        return self._cells[part][section[part]]

    @cached_property
    def _cells(self) -> dict[str, list[list[str]]]:
        """Every body's gaps and findings as cells, each body's columns formatted as if alone: worked
        out once, and only by a writer that prints the body sections."""
        return {part: cells(getattr(self, part), self.starts.get(part))[0] for part in ("gaps", "findings")}

    def body_table(self, section: dict, part: str) -> pd.DataFrame:
        """A body's gaps or findings (`part`) as its own table."""
        return getattr(self, part).iloc[section[part]].reset_index(drop=True)

    @property
    def appendix_note(self) -> str:
        """Where the appendix is when it is not in the report itself ("" when it is)."""
        return self.t("appendix_apart").format(rows=f"{self.appendix_rows:,}", file=self.appendix_file) \
            if self.appendix_file else ""

    @property
    def bodies_note(self) -> str:
        """Where the body sections are when they are not in the report itself ("" when they are)."""
        gaps, findings = self.bodies_files
        return self.t("bodies_apart").format(bodies=f"{self.bodies_apart:,}", gaps=gaps, findings=findings,
                                             shown=FINDINGS_SHOWN) if self.bodies_apart else ""

    def every_body(self, part: str) -> pd.DataFrame:
        """Every body's gaps or findings (`part`) as one table, each row naming its body (`name`),
        the bodies in the report's order."""
        parts = [b[part] for b in self.bodies]
        rows = np.concatenate([np.arange(p.start, p.stop) for p in parts]) if parts else np.array([], dtype=int)
        names = np.repeat([b["name"] for b in self.bodies], [p.stop - p.start for p in parts])
        table = getattr(self, part)
        return table.iloc[rows].reset_index(drop=True).assign(name=names)[["name", *table.columns]]

    def t(self, key: str) -> str:
        return text(key, self.lang)

    def s(self, value: str) -> str:
        """A name or quotation in the report's script (see `scoring.i18n.script`)."""
        return script(value, self.lang)

    @property
    def title(self) -> str:
        h = self.card.scheme.scheme
        return f"《{self.s(h.title)}》{self.t('report_title')}"

    @property
    def document(self) -> str:
        return self.s(self.card.scheme.scheme.document)

    @property
    def firms(self) -> list[str]:
        return sorted({self.s(f) for f in self.evidence.firms})

    @property
    def cover(self) -> list[tuple[str, str]]:
        """The cover's facts as (label, value), one block for every writer: as-of date, run,
        generated, records, firms, imports (with their first and last day)."""
        t, ev = self.t, self.evidence
        imports = f"{ev.batches}"
        if ev.first_import and ev.last_import:
            imports += f"（{ev.first_import.date()} – {ev.last_import.date()}）"
        return [(t("as_of"), str(self.card.as_of)), (t("report_run"), str(self.run_id or "—")),
                (t("report_generated"), str(self.generated)), (t("report_records"), str(ev.records)),
                (t("report_firms"), "、".join(self.firms)), (t("report_imports"), imports)]

    def header(self, key: str) -> str:
        return header(key, self.lang)

    def headed(self, frame: pd.DataFrame) -> pd.DataFrame:
        return headed(frame, self.lang)


def _summary(card: Scorecard, lang: str, share: pd.Series) -> pd.DataFrame:
    s = card.scores.assign(share_ok=(share == text("share_pass", lang)).to_numpy())
    rows = []
    for kind in BODY_KINDS_SHOWN:
        part = s[(s["kind"] == kind) & s["score"].notna()]
        if part.empty:
            continue
        row = {"kind": text(f"kind_{kind}", lang), "bodies": len(part), "average": round(float(part["score"].mean()), 2),
               "share": int(part["share_ok"].sum())}
        for g in card.scheme.scheme.grades:
            row[GRADE + g.name] = int((part["grade"] == g.name).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _rankings(card: Scorecard, lang: str, share: pd.Series) -> dict[str, pd.DataFrame]:
    s = card.scores.assign(share=share.to_numpy())
    out = {}
    for kind in BODY_KINDS_SHOWN:
        part = s[s["kind"] == kind]
        if part.empty:
            continue
        out[kind] = pd.DataFrame({
            "rank": part["rank"].astype("Int64"), "name": _s(part["name"], lang), "score": part["score"].round(2),
            "grade": _s(part["grade"], lang), "share_rule": part["share"], "veto": part["veto"]}).reset_index(drop=True)
    return out


def worded(v: pd.Series, word) -> pd.Series:
    """`word` of each value, worked out once per distinct value (no value stays as it is)."""
    codes, distinct = pd.factorize(v)
    words = np.array([*(word(x) for x in distinct), None], dtype=object)
    out = words[codes]   # code -1 (no value): the last, None
    if (codes < 0).any():
        out = np.where(codes < 0, v.to_numpy(dtype=object), out)
    return pd.Series(out, index=v.index, dtype=object)


def _s(v: pd.Series, lang: str) -> pd.Series:
    """Names or quotations in the report's script, each distinct value converted once."""
    return worded(v, lambda x: script(x, lang) if isinstance(x, str) else x)


def _items(v: pd.Series, lang: str) -> pd.Series:
    """Items in words (`item_text`), each distinct item worded once."""
    return worded(v.astype(str), lambda i: item_text(i, lang))


def _outcomes(v: pd.Series, lang: str) -> pd.Series:
    return worded(v.astype(str), lambda o: text(f"outcome_{o}", lang))


def _when(v: pd.Series) -> pd.Series:
    """Times as a reader writes them (2017-05-31, 2017-05-31 14:30; none: ""), each distinct time
    worded once (a nation's appendix has 431,534 rows and a few thousand distinct times)."""
    codes, times = pd.factorize(v)
    words = np.array([*times.strftime("%Y-%m-%d %H:%M").str.replace(" 23:59", "", regex=False).str.replace(
        " 00:00", "", regex=False), ""], dtype=object)
    return pd.Series(words[codes], index=v.index, dtype=object)   # code -1 (no time): the last, ""


FINDINGS_SHOWN = 12   # a body's section lists its costliest findings


def body_tables(card: Scorecard, lang: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every scored body's gaps and costliest findings, in words, as two tables grouped by body (a
    `body` column, bodies in id order): one pass over every body's findings. A function of the run and
    the language alone (kept with the run: `workflows.documents`)."""
    titles = {o.id: script(o.title, lang) for o in card.scheme.obligations}
    rules = {(o.id, n): rule_text(r.kind, r.label, lang) for o in card.scheme.obligations
             for n, r in enumerate(o.rules)}
    ob = card.obligations
    gaps = ob[ob["gap"] > LOST].sort_values(["body", "gap", "obligation"], ascending=[True, False, True])
    gaps = pd.DataFrame({"body": gaps["body"].astype(str).to_numpy(), "obligation": gaps["obligation"].to_numpy(),
                         "title": gaps["obligation"].map(titles).to_numpy(), "lost": gaps["gap"].round(2).to_numpy()})
    found = losses(card)
    found = worst_first(found[found["lost"] > LOST], by_body=True)
    found = found[found.groupby("body", observed=True).cumcount() < FINDINGS_SHOWN]
    found = found.join(lateness(card, found)[["late_working_days", "late_hours"]])  # of the shown only, by row
    found = pd.DataFrame({
        "body": found["body"].astype(str).to_numpy(), "obligation": found["obligation"].to_numpy(),
        "rule": [rules[(o, n)] for o, n in zip(found["obligation"], found["rule_no"], strict=True)],
        "item": _items(found["item"], lang).to_numpy(), "due": _when(found["due"]).to_numpy(),
        "published": _when(found["published_at"]).to_numpy(), "outcome": _outcomes(found["outcome"], lang).to_numpy(),
        "late": late_texts(found, lang).to_numpy(), "lost": found["lost"].round(2).to_numpy()})
    return gaps, found


def _body_sections(card: Scorecard, lang: str, tables: tuple[pd.DataFrame, pd.DataFrame] | None = None
                   ) -> tuple[list[dict], pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
    """Each scored body's section: the tables of all bodies (gaps, findings: `body_tables`, or
    `tables` as kept), per body a section naming its rows there (slices), and where each body's rows
    begin in each table (their cells are worked out when printed: `Report.section_cells`)."""
    gaps, found = tables if tables is not None else body_tables(card, lang)
    gap_rows, found_rows = by_body(gaps), by_body(found)
    sections = []
    scored = card.scores.dropna(subset=["score"])
    for body, name, kind, score, rank, grade, veto in zip(
            *(scored[c].tolist() for c in ("body", "name", "kind", "score", "rank", "grade", "veto")), strict=True):
        sections.append({
            "body": body, "name": script(name, lang), "kind": text(f"kind_{kind}", lang),
            "score": round(float(score), 2), "rank": int(rank), "grade": script(grade, lang),
            "veto": veto, "gaps": gap_rows.get(str(body), slice(0, 0)), "findings": found_rows.get(str(body), slice(0, 0))})
    return (sections, gaps.drop(columns="body"), found.drop(columns="body"),
            {"gaps": _starts(gap_rows), "findings": _starts(found_rows)})


def by_body(frame: pd.DataFrame) -> dict[str, slice]:
    """Where each body's rows are in a table of every body's rows grouped by body."""
    body = frame["body"].to_numpy()
    starts = np.flatnonzero(np.r_[True, body[1:] != body[:-1]]) if len(frame) else np.array([], dtype=np.int64)
    bounds = [*starts.tolist(), len(frame)]
    return {str(body[a]): slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)}


def _starts(rows: dict[str, slice]) -> np.ndarray:
    return np.array([s.start for s in rows.values()], dtype=np.int64)


def _method(card: Scorecard, lang: str) -> pd.DataFrame:
    rows = []
    for o in card.scheme.obligations:
        rules = "；".join(rule_text(r.kind, r.label, lang) for r in o.rules)
        rows.append({"obligation": o.id, "section": script(" ".join(o.section), lang), "title": script(o.title, lang),
                     "points": o.points, "rules": rules, "quote": script(o.source, lang)})
    return pd.DataFrame(rows)


def appendix(card: Scorecard, lang: str, evidence: EvidenceSummary) -> pd.DataFrame:
    """Every missing or late item with the first-published record of it (its url, note, preserved
    file): a function of the run, the stored records and the language (kept: `workflows.documents`)."""
    f = card.findings[card.findings["outcome"].isin(["missing", "late"])]
    f = f.join(lateness(card, f)[["late_working_days", "late_hours"]])   # the late rows, by their index
    f = f.sort_values(["body", "obligation", "due"]).reset_index(drop=True)
    ev = evidence.evidence
    at = _earliest_record(f, ev)
    f = f.assign(**{c: _taken(ev[c], at) if c in ev else np.full(len(f), None, dtype=object)
                    for c in ("url", "note", "attachment", "captured_at")})
    files = evidence.files.drop_duplicates("attachment").set_index("attachment") if len(evidence.files) else None
    for c in ("file", "size"):   # of the findings' preserved files only
        f[c] = f["attachment"].map(files[c]) if files is not None else None
    names = {b.id: script(b.name, lang) for b in card.scheme.bodies}
    return pd.DataFrame({
        "name": worded(f["body"], lambda b: names[str(b)]), "obligation": f["obligation"],
        "item": _items(f["item"], lang),
        "due": _when(f["due"]), "published": _when(f["published_at"]), "outcome": _outcomes(f["outcome"], lang),
        "late": late_texts(f, lang), "url": f["url"].fillna(""), "note": _s(f["note"].fillna(""), lang),
        "file": _file_texts(f, lang), "sha": f["attachment"].fillna("").astype(str),
    }).reset_index(drop=True)


def _earliest_record(findings: pd.DataFrame, evidence: pd.DataFrame) -> np.ndarray:
    """Per finding, the row of `evidence` of its body, obligation and item published first (the
    lowest id among equals), or -1. On integer codes: each distinct body, obligation and
    period/event/step is looked at once, never each of a million records' texts."""
    if evidence.empty:
        return np.full(len(findings), -1, dtype=np.int64)
    ev = evidence[["body", "obligation", "period", "event", "step"]].astype("category")
    p, e, s = (ev[c].cat.codes.to_numpy(np.int64) for c in ("period", "event", "step"))
    n_e, n_s = len(ev["event"].cat.categories), len(ev["step"].cat.categories)
    combo, kinds = pd.factorize((p * n_e + e) * n_s + s)   # each distinct period/event/step once
    labels = pd.DataFrame({"period": ev["period"].cat.categories.to_numpy(object)[kinds // (n_e * n_s)],
                           "event": ev["event"].cat.categories.to_numpy(object)[kinds // n_s % n_e],
                           "step": ev["step"].cat.categories.to_numpy(object)[kinds % n_s]})
    item_words = evidence_item(labels).astype(str)   # as the engine reads it (a rubric's check: its step)
    key = np.zeros(len(ev), dtype=np.int64)
    want = np.zeros(len(findings), dtype=np.int64)
    known = np.ones(len(ev), dtype=bool)
    for col, words, code in (("body", ev["body"].cat.categories.astype(str), ev["body"].cat.codes.to_numpy()),
                             ("obligation", ev["obligation"].cat.categories.astype(str),
                              ev["obligation"].cat.codes.to_numpy()),
                             ("item", item_words, combo)):
        found = findings[col].astype("category")
        mapped = pd.Index(found.cat.categories.astype(str)).get_indexer(words)[code]   # in the findings' codes
        known &= mapped >= 0
        key = key * len(found.cat.categories) + mapped
        want = want * len(found.cat.categories) + found.cat.codes.to_numpy(np.int64)
    order = np.argsort(evidence["published_at"].to_numpy(), kind="stable")   # no date (NaT): last
    order = order[known[order]]
    keys, first = np.unique(key[order], return_index=True)   # each key's first record in publication order
    if not len(keys):
        return np.full(len(findings), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(keys, want), len(keys) - 1)
    return np.where(keys[pos] == want, order[first][pos], -1)


def _taken(column: pd.Series, at: np.ndarray) -> np.ndarray:
    """A column's values at rows `at` (-1: None), the column read only at those rows."""
    out = np.full(len(at), None, dtype=object)
    rows = at >= 0
    out[rows] = column.iloc[at[rows]].to_numpy(dtype=object)
    return out


def file_size(size: float) -> str:
    """Bytes in words: 812 B, 12.4 KB, 3.1 MB."""
    for unit in ("B", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _file_texts(f: pd.DataFrame, lang: str) -> list[str]:
    """Each finding's preserved file in words ('no attachment' where none): worked out only for the
    rows that have one."""
    none = text("no_attachment", lang)
    has = f["attachment"].map(lambda a: isinstance(a, str) and a != "").to_numpy(dtype=bool)
    out = [none] * len(f)
    rows = np.flatnonzero(has)
    for i, row in zip(rows, f.iloc[rows].itertuples(), strict=True):
        out[i] = _file_text(row, lang)
    return out


def _file_text(row, lang: str) -> str:
    """The preserved file of a finding's evidence: its name, size and capture time, or 'no attachment'."""
    if not isinstance(row.attachment, str) or not row.attachment:
        return text("no_attachment", lang)
    parts = [row.file if isinstance(row.file, str) else row.attachment[:12]]  # a file name as it was sent
    if pd.notna(row.size):
        parts.append(file_size(float(row.size)))
    captured = pd.to_datetime(row.captured_at)
    if pd.notna(captured):
        parts.append(f"{text('attachment_captured', lang)} {captured:%Y-%m-%d %H:%M}")
    return "，".join(parts) if lang != "en" else ", ".join(parts)


# the report's rank intervals: 1,000 seeded re-scorings (and the name they are kept by, `derived_file`)
RANK_DRAWS, RANK_SEED = 1000, 0
RANK_INTERVALS_NAME = f"robustness draws={RANK_DRAWS} seed={RANK_SEED}"


def rank_intervals(card: Scorecard) -> pd.DataFrame:
    """`robustness` as the report shows it (a function of the run alone: kept with it, see
    `workflows.documents`)."""
    return robustness(card, draws=RANK_DRAWS, seed=RANK_SEED)


def _robustness(card: Scorecard, lang: str, r: pd.DataFrame | None = None) -> pd.DataFrame:
    """How sure each rank is: 1,000 seeded re-scorings with points ±20%, late credit 0.3–0.7 and
    ratings ±5 (docs/method.md §7); a grade kept in under 80% of them is flagged. `r`: the run's
    rank intervals as kept (`rank_intervals`), else worked out here."""
    r = rank_intervals(card) if r is None else r
    names = card.scores.set_index("body")["name"]
    return pd.DataFrame({
        "name": _s(r["body"].map(names), lang), "body_kind": r["kind"].map(lambda k: text(f"kind_{k}", lang)),
        "rank": r["rank"].astype(int), "rank_interval": r["rank_p05"].astype(str) + "–" + r["rank_p95"].astype(str),
        "grade": _s(r["grade"], lang),
        "p_same_grade": (100 * r["p_same_grade"]).round().astype(int).astype(str) + "%"
        + np.where(r["p_same_grade"] < 0.8, "（" + text("grade_uncertain_short", lang) + "）", ""),
    })


def _year_over_year(changes: pd.DataFrame | None, lang: str) -> pd.DataFrame:
    """Each body beside the year before: score, rank and their changes (▲ up, ▼ down), comparable change."""
    if changes is None or changes.empty:
        return pd.DataFrame()
    c = changes.sort_values(["kind", "rank", "body"])
    arrows = ["＝" if v == 0 else f"▲{v:.0f}" if v > 0 else f"▼{-v:.0f}" for v in c["rank_change"]]
    return pd.DataFrame({
        "name": _s(c["name"], lang), "body_kind": c["kind"].map(lambda k: text(f"kind_{k}", lang)),
        "score": c["score"].round(2), "rank": c["rank"].astype(int), "yoy_previous": c["previous_score"].round(2),
        "yoy_change": c["change"].map(lambda v: f"{v:+.2f}"), "yoy_rank": arrows,
        "yoy_comparable": c["comparable_change"].map(lambda v: "—" if v != v else f"{v:+.2f}")}).reset_index(drop=True)


@dataclass(frozen=True)
class Kept:
    """The report's tables that grow with the nation, as kept with its run: every body's gaps and
    costliest findings (`body_tables`), the appendix, and where the CSV of each part written beside a
    report (`write.apart`) is kept ("appendix", "gaps", "findings": a file there is copied, not written
    again; one not there yet is kept when first written)."""

    gaps: pd.DataFrame
    findings: pd.DataFrame
    appendix: pd.DataFrame
    csv: dict[str, Path] = field(default_factory=dict)
    charts: Path | None = None   # where the images of its charts are kept, each named by what it draws


def build(card: Scorecard, evidence: EvidenceSummary, run_id: int | None = None, lang: str = "zh-Hans",
          previous: str = "", changes: pd.DataFrame | None = None,
          quality: quality_section.QualityInputs | None = None, intervals: pd.DataFrame | None = None,
          kept: Kept | None = None) -> Report:
    """Assemble the report of one scoring run (`intervals`: its rank intervals as kept with the run);
    with `previous` and its `changes` (lineage.compare),
    the year-over-year section too; `quality`: the sample and self-assessments (none: says so);
    `kept`: the tables that grow with the nation as kept with the run (`Kept`), else worked out here."""
    share = share_status(card, lang)
    quality = quality or quality_section.QualityInputs()
    bodies, gaps, findings, starts = _body_sections(card, lang, None if kept is None else (kept.gaps, kept.findings))
    return Report(lang=lang, card=card, run_id=run_id, kept_csv=kept.csv if kept is not None else {},
                  kept_charts=kept.charts if kept is not None else None, generated=dt.datetime.now().replace(microsecond=0),
                  evidence=evidence, summary=_summary(card, lang, share), rankings=_rankings(card, lang, share),
                  bodies=bodies, gaps=gaps, findings=findings, starts=starts, method=_method(card, lang),
                  appendix=appendix(card, lang, evidence) if kept is None else kept.appendix, synthetic=demo.FIRM in evidence.firms,
                  robustness=_robustness(card, lang, intervals), previous=previous, year_over_year=_year_over_year(changes, lang),
                  quality_inputs=quality, sections=quality_section.sections(quality, card.scheme, lang))
