"""The annual report (年度政務公開考核報告) as data: named tables and per-body sections from one
scoring run, written by `scoring.report.write` (xlsx, docx, html, pdf)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scoring.i18n import script, text
from scoring.method import LOST
from scoring.method import kinds as rule_kinds
from scoring.method.engine import Scorecard
from scoring.method.explain import explained, late_text, lateness, share_status
from scoring.method.robustness import robustness
from scoring.report import quality as quality_section
from scoring.store.repository import EvidenceSummary
from scoring.synthetic import demo

KINDS = ("city", "department", "county")
# period labels (scoring.method.periods) → words: 2017-03 → 2017年3月, 2017-Q1 → 2017年第1季度 …
_PERIODS = (("period_day", re.compile(r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<n>\d{2})$")),
            ("period_week", re.compile(r"^(?P<y>\d{4})-W(?P<n>\d{2})$")),
            ("period_month", re.compile(r"^(?P<y>\d{4})-(?P<n>\d{2})$")),
            ("period_quarter", re.compile(r"^(?P<y>\d{4})-Q(?P<n>[1-4])$")),
            ("period_year", re.compile(r"^(?P<y>\d{4})$")),
            ("period_pentad", re.compile(r"^(?P<y>\d{4})-(?P<m>\d{2})-P(?P<n>[1-6])$")))


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
    v = pd.to_numeric(values, errors="coerce").dropna().round(2)
    for d in (0, 1):
        if ((v * 10**d).round(6) % 1 == 0).all():
            return d
    return 2


def cells(frame: pd.DataFrame) -> tuple[list[list[str]], list[bool]]:
    """A table's cells as text, one number format per column, and which columns are numbers."""
    columns, numeric = [], []
    for _, col in frame.items():
        is_num = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        numeric.append(is_num)
        if is_num:
            d = decimals(col)
            columns.append(["" if pd.isna(v) else f"{float(v):.{d}f}" for v in col])
        else:
            columns.append(["" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in col])
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
    bodies: list[dict]
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


def _summary(card: Scorecard, lang: str, share: pd.Series) -> pd.DataFrame:
    s = card.scores.assign(share_ok=(share == text("share_pass", lang)).to_numpy())
    rows = []
    for kind in KINDS:
        part = s[(s["kind"] == kind) & s["score"].notna()]
        if part.empty:
            continue
        row = {text("report_kind", lang): text(f"kind_{kind}", lang), text("bodies_assessed", lang): len(part),
               text("average", lang): round(float(part["score"].mean()), 2),
               text("share_compliance", lang): int(part["share_ok"].sum())}
        for g in card.scheme.scheme.grades:
            row[script(g.name, lang)] = int((part["grade"] == g.name).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _rankings(card: Scorecard, lang: str, share: pd.Series) -> dict[str, pd.DataFrame]:
    s = card.scores.assign(share=share.to_numpy())
    out = {}
    for kind in KINDS:
        part = s[s["kind"] == kind]
        if part.empty:
            continue
        out[kind] = pd.DataFrame({
            text("rank", lang): part["rank"].astype("Int64"), text("name", lang): _s(part["name"], lang),
            text("score", lang): part["score"].round(2), text("grade", lang): _s(part["grade"], lang),
            text("share_rule", lang): part["share"], text("veto", lang): part["veto"]}).reset_index(drop=True)
    return out


def _s(v: pd.Series, lang: str) -> pd.Series:
    return v.map(lambda x: script(x, lang) if isinstance(x, str) else x)


def _when(v: pd.Series) -> pd.Series:
    return v.dt.strftime("%Y-%m-%d %H:%M").str.replace(" 23:59", "", regex=False).str.replace(
        " 00:00", "", regex=False).fillna("")


def _body_sections(card: Scorecard, lang: str) -> list[dict]:
    titles = {o.id: script(o.title, lang) for o in card.scheme.obligations}
    rules = {(o.id, n): rule_text(r.kind, r.label, lang) for o in card.scheme.obligations
             for n, r in enumerate(o.rules)}
    sections = []
    for row in card.scores.dropna(subset=["score"]).itertuples():
        gaps = card.gaps_of(row.body)
        found = explained(card, row.body)
        found = found[found["lost"] > LOST].head(12)
        sections.append({
            "body": row.body, "name": script(row.name, lang), "kind": text(f"kind_{row.kind}", lang),
            "score": round(float(row.score), 2), "rank": int(row.rank), "grade": script(row.grade, lang),
            "veto": row.veto,
            "gaps": pd.DataFrame({
                text("filter_obligation", lang): gaps["obligation"],
                text("obligation_title", lang): gaps["obligation"].map(titles),
                text("finding_lost", lang): gaps["gap"].round(2)}),
            "findings": pd.DataFrame({
                text("filter_obligation", lang): found["obligation"],
                text("finding_rule", lang): [rules[(o, n)] for o, n in zip(found["obligation"], found["rule_no"],
                                                                          strict=True)],
                text("finding_item", lang): found["item"].astype(str).map(lambda i: item_text(i, lang)),
                text("finding_due", lang): _when(found["due"]),
                text("finding_published", lang): _when(found["published_at"]),
                text("finding_outcome", lang): found["outcome"].map(lambda o: text(f"outcome_{o}", lang)),
                text("finding_late", lang): found.apply(lambda r: late_text(r, lang), axis=1) if len(found) else [],
                text("finding_lost", lang): found["lost"].round(2)}),
        })
    return sections


def _method(card: Scorecard, lang: str) -> pd.DataFrame:
    rows = []
    for o in card.scheme.obligations:
        rules = "；".join(rule_text(r.kind, r.label, lang) for r in o.rules)
        rows.append({text("filter_obligation", lang): o.id,
                     text("report_section", lang): script(" ".join(o.section), lang),
                     text("obligation_title", lang): script(o.title, lang), text("points", lang): o.points,
                     text("rules", lang): rules, text("report_quote", lang): script(o.source, lang)})
    return pd.DataFrame(rows)


def _appendix(card: Scorecard, lang: str, evidence: pd.DataFrame) -> pd.DataFrame:
    f = card.findings[card.findings["outcome"].isin(["missing", "late"])]
    f = f.merge(lateness(card), on=["body", "obligation", "rule", "item"], how="left")
    names = {b.id: script(b.name, lang) for b in card.scheme.bodies}
    if not evidence.empty:
        ev = evidence.assign(item=evidence["period"].where(evidence["period"] != "", "deadline"))
        ev.loc[ev["event"] != "", "item"] = ev["event"] + "/" + ev["step"]
        ev = ev.sort_values("published_at").drop_duplicates(["body", "obligation", "item"])
        ev = ev.reindex(columns=[*ev.columns, *(c for c in _FILE if c not in ev.columns)])
        f = f.merge(ev[["body", "obligation", "item", "url", "note", *_FILE]], on=["body", "obligation", "item"],
                    how="left")
    else:
        f = f.assign(url="", note="", **dict.fromkeys(_FILE))
    f = f.sort_values(["body", "obligation", "due"])
    return pd.DataFrame({
        text("name", lang): f["body"].map(names), text("filter_obligation", lang): f["obligation"],
        text("finding_item", lang): f["item"].astype(str).map(lambda i: item_text(i, lang)),
        text("finding_due", lang): _when(f["due"]),
        text("finding_published", lang): _when(f["published_at"]),
        text("finding_outcome", lang): f["outcome"].map(lambda o: text(f"outcome_{o}", lang)),
        text("finding_late", lang): f.apply(lambda r: late_text(r, lang), axis=1) if len(f) else [],
        text("report_url", lang): f["url"].fillna(""), text("report_note", lang): _s(f["note"].fillna(""), lang),
        text("report_attachment", lang): [_file_text(r, lang) for r in f.itertuples()],
        text("report_sha256", lang): f["attachment"].fillna("").astype(str),
    }).reset_index(drop=True)


_FILE = ["attachment", "captured_at", "file", "size"]  # an evidence record's preserved file (see cycle.py)


def file_size(size: float) -> str:
    """Bytes in words: 812 B, 12.4 KB, 3.1 MB."""
    for unit in ("B", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


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


def _robustness(card: Scorecard, lang: str) -> pd.DataFrame:
    """How sure each rank is: 1,000 seeded re-scorings with points ±20%, late credit 0.3–0.7 and
    ratings ±5 (docs/method.md §7); a grade kept in under 80% of them is flagged."""
    r = robustness(card, draws=1000, seed=0)
    names = card.scores.set_index("body")["name"]
    return pd.DataFrame({
        text("name", lang): _s(r["body"].map(names), lang),
        text("body_kind", lang): r["kind"].map(lambda k: text(f"kind_{k}", lang)),
        text("rank", lang): r["rank"].astype(int),
        text("rank_interval", lang): r["rank_p05"].astype(str) + "–" + r["rank_p95"].astype(str),
        text("grade", lang): _s(r["grade"], lang),
        text("p_same_grade", lang): (100 * r["p_same_grade"]).round().astype(int).astype(str) + "%"
        + np.where(r["p_same_grade"] < 0.8, "（" + text("grade_uncertain_short", lang) + "）", ""),
    })


def _year_over_year(changes: pd.DataFrame | None, lang: str) -> pd.DataFrame:
    """Each body beside the year before: score, rank and their changes (▲ up, ▼ down), comparable change."""
    if changes is None or changes.empty:
        return pd.DataFrame()
    c = changes.sort_values(["kind", "rank", "body"])
    arrows = ["＝" if v == 0 else f"▲{v:.0f}" if v > 0 else f"▼{-v:.0f}" for v in c["rank_change"]]
    return pd.DataFrame({
        text("name", lang): _s(c["name"], lang), text("body_kind", lang): c["kind"].map(lambda k: text(f"kind_{k}", lang)),
        text("score", lang): c["score"].round(2), text("rank", lang): c["rank"].astype(int),
        text("yoy_previous_score", lang): c["previous_score"].round(2),
        text("yoy_change", lang): c["change"].map(lambda v: f"{v:+.2f}"), text("yoy_rank", lang): arrows,
        text("yoy_comparable", lang): c["comparable_change"].map(lambda v: "—" if v != v else f"{v:+.2f}")}).reset_index(drop=True)


def build(card: Scorecard, evidence: EvidenceSummary, run_id: int | None = None, lang: str = "zh-Hans",
          previous: str = "", changes: pd.DataFrame | None = None,
          quality: quality_section.QualityInputs | None = None) -> Report:
    """Assemble the report of one scoring run; with `previous` and its `changes` (lineage.compare),
    the year-over-year section too; `quality`: the sample and self-assessments (none: says so)."""
    share = share_status(card, lang)
    quality = quality or quality_section.QualityInputs()
    return Report(lang=lang, card=card, run_id=run_id, generated=dt.datetime.now().replace(microsecond=0),
                  evidence=evidence, summary=_summary(card, lang, share), rankings=_rankings(card, lang, share),
                  bodies=_body_sections(card, lang), method=_method(card, lang),
                  appendix=_appendix(card, lang, evidence.evidence), synthetic=demo.FIRM in evidence.firms,
                  robustness=_robustness(card, lang), previous=previous, year_over_year=_year_over_year(changes, lang),
                  quality_inputs=quality, sections=quality_section.sections(quality, card.scheme, lang))
