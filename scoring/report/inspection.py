"""The annual report's website inspection section (網站檢查): each polled site's verdict as of the
report's date — score, vetoes and deductions, and the polls it rests on — built apart from the
report model (which carries it as one of its `sections`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from scoring.i18n import script, text
from scoring.inspect.judge import DEDUCT, Judgement
from scoring.report.quality import Block, Section


@dataclass(frozen=True)
class SiteVerdict:
    body: str
    name: str
    site: str
    judgement: Judgement


def section(sites: list[SiteVerdict], day: dt.date, lang: str) -> Section:
    """One row per site: body, site, score, verdict, the vetoing checks, the deductions (check: points)
    and how many polls the judging used."""
    def t(key: str) -> str:
        return text(key, lang)

    en = lang == "en"
    rows = []
    for s in sites:
        j = s.judgement
        named = {f.check: (f.name_en if en else script(f.name, lang)) for f in j.findings}
        rows.append({t("inspect_body"): s.name, t("inspect_site"): s.site, t("inspect_score"): j.score,
                     t("inspect_verdict"): t(f"inspect_{j.verdict}"),
                     t("inspect_vetoes"): "、".join(named[c] for c in j.vetoes),
                     t("inspect_deductions"): "、".join(f"{named[f.check]} −{f.deduction:g}" for f in j.findings
                                                       if f.result == DEDUCT),
                     t("inspect_polls"): len({p for f in j.findings for p in f.polls})})
    table = pd.DataFrame(rows, columns=[t(k) for k in ("inspect_body", "inspect_site", "inspect_score", "inspect_verdict",
                                                       "inspect_vetoes", "inspect_deductions", "inspect_polls")])
    caption = t("inspect_caption") + f"（{t('inspect_as_of')} {day}）" if sites else t("report_inspect_none")
    return Section("report_inspect", [Block("note", caption), *([Block("table", table=table)] if sites else [])])
