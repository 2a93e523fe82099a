"""The annual report (年度政務公開考核報告) as data: named tables and per-body sections from one
scoring run, written by `scoring.report.write` (xlsx, docx, html, pdf)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from scoring.i18n import text
from scoring.method.engine import Scorecard
from scoring.method.explain import explained, late_text, lateness, share_status
from scoring.store.repository import EvidenceSummary

KINDS = ("city", "department", "county")


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

    def t(self, key: str) -> str:
        return text(key, self.lang)

    @property
    def title(self) -> str:
        h = self.card.scheme.scheme
        return f"《{h.title}》{self.t('report_title')}"


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
            row[g.name] = int((part["grade"] == g.name).sum())
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
            text("rank", lang): part["rank"].astype("Int64"), text("name", lang): part["name"],
            text("score", lang): part["score"].round(2), text("grade", lang): part["grade"],
            text("share_rule", lang): part["share"], text("veto", lang): part["veto"]}).reset_index(drop=True)
    return out


def _when(v: pd.Series) -> pd.Series:
    return v.dt.strftime("%Y-%m-%d %H:%M").str.replace(" 23:59", "", regex=False).str.replace(
        " 00:00", "", regex=False).fillna("")


def _body_sections(card: Scorecard, lang: str) -> list[dict]:
    titles = {o.id: o.title for o in card.scheme.obligations}
    sections = []
    for row in card.scores.dropna(subset=["score"]).itertuples():
        gaps = card.gaps_of(row.body)
        found = explained(card, row.body)
        found = found[found["lost"] > 1e-12].head(12)
        sections.append({
            "body": row.body, "name": row.name, "kind": text(f"kind_{row.kind}", lang),
            "score": round(float(row.score), 2), "rank": int(row.rank), "grade": row.grade, "veto": row.veto,
            "gaps": pd.DataFrame({
                text("filter_obligation", lang): gaps["obligation"],
                text("obligation_title", lang): gaps["obligation"].map(titles),
                text("finding_lost", lang): gaps["gap"].round(2)}),
            "findings": pd.DataFrame({
                text("filter_obligation", lang): found["obligation"], text("finding_rule", lang): found["label"],
                text("finding_item", lang): found["item"], text("finding_due", lang): _when(found["due"]),
                text("finding_published", lang): _when(found["published_at"]),
                text("finding_outcome", lang): found["outcome"].map(lambda o: text(f"outcome_{o}", lang)),
                text("finding_late", lang): found.apply(lambda r: late_text(r, lang), axis=1) if len(found) else [],
                text("finding_lost", lang): found["lost"].round(3)}),
        })
    return sections


def _method(card: Scorecard, lang: str) -> pd.DataFrame:
    rows = []
    for o in card.scheme.obligations:
        rules = "；".join(f"{r.kind}" + (f"（{r.label}）" if r.label else "") for r in o.rules)
        rows.append({text("filter_obligation", lang): o.id, text("report_section", lang): " ".join(o.section),
                     text("obligation_title", lang): o.title, text("points", lang): o.points,
                     text("rules", lang): rules, text("report_quote", lang): o.source})
    return pd.DataFrame(rows)


def _appendix(card: Scorecard, lang: str, evidence: pd.DataFrame) -> pd.DataFrame:
    f = card.findings[card.findings["outcome"].isin(["missing", "late"])]
    f = f.merge(lateness(card), on=["body", "obligation", "rule", "item"], how="left")
    names = {b.id: b.name for b in card.scheme.bodies}
    if not evidence.empty:
        ev = evidence.assign(item=evidence["period"].where(evidence["period"] != "", "deadline"))
        ev.loc[ev["event"] != "", "item"] = ev["event"] + "/" + ev["step"]
        ev = ev.sort_values("published_at").drop_duplicates(["body", "obligation", "item"])
        f = f.merge(ev[["body", "obligation", "item", "url", "note"]], on=["body", "obligation", "item"], how="left")
    else:
        f = f.assign(url="", note="")
    f = f.sort_values(["body", "obligation", "due"])
    return pd.DataFrame({
        text("name", lang): f["body"].map(names), text("filter_obligation", lang): f["obligation"],
        text("finding_item", lang): f["item"], text("finding_due", lang): _when(f["due"]),
        text("finding_published", lang): _when(f["published_at"]),
        text("finding_outcome", lang): f["outcome"].map(lambda o: text(f"outcome_{o}", lang)),
        text("finding_late", lang): f.apply(lambda r: late_text(r, lang), axis=1) if len(f) else [],
        text("report_url", lang): f["url"].fillna(""), text("report_note", lang): f["note"].fillna(""),
    }).reset_index(drop=True)


def build(card: Scorecard, evidence: EvidenceSummary, run_id: int | None = None, lang: str = "zh-Hans") -> Report:
    """Assemble the report of one scoring run."""
    share = share_status(card, lang)
    return Report(lang=lang, card=card, run_id=run_id, generated=dt.datetime.now().replace(microsecond=0),
                  evidence=evidence, summary=_summary(card, lang, share), rankings=_rankings(card, lang, share),
                  bodies=_body_sections(card, lang), method=_method(card, lang),
                  appendix=_appendix(card, lang, evidence.evidence))
