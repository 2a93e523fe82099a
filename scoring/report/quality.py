"""The annual report's quality sections (issue 28): how far the firms' readings can be trusted — the
latest sample's agreement of the two readings per obligation and per firm (n, agreement, κ, α, the
bootstrap interval; — when undefined), its lots and which are marked for re-checking and why, the
obligation × firm heat map — and the bodies' self-assessments (自評) beside the third-party finding.

Built from the tables the report workflow reads (`QualityInputs`) into `Block`s — a heading, a line
of text, a warning, a note, a table or the chart — that every writer (xlsx, docx, html, pdf) lays out
the same way. Pure: no database."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

from scoring.i18n import script, text
from scoring.method.agreement import agreement_table
from scoring.method.scheme import Scheme, natural_key
from scoring.method.self_assessment import OUTCOMES
from scoring.report.quality_charts import agreement_heatmap

CHART = "quality_heatmap"  # the heat map's name among the report's figures


@dataclass(frozen=True)
class QualityInputs:
    """What the sections are made of: the latest sample (id, seed, size, by, aql, as_of, population;
    None when none is drawn) and its items with both readings (`workflows.quality._readings`:
    stratum, body, obligation, kind, item, firm, batches, first_outcome/first_value, second/
    second_value, read, disagree, lot, ac, re, recheck), and the self-assessment comparison
    (`scoring.method.self_assessment.compare`)."""

    sample: dict | None = None
    readings: pd.DataFrame = field(default_factory=pd.DataFrame)
    claims: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class Block:
    """One piece of a section: `kind` h3 | p | alert | note (text) | table (a frame) | chart."""

    kind: str
    text: str = ""
    table: pd.DataFrame | None = None


@dataclass(frozen=True)
class Section:
    key: str  # the heading's string key, and the html anchor
    blocks: list[Block]

    def title(self, lang: str) -> str:
        return text(self.key, lang)


def number(value: float) -> str:
    """A coefficient to 2 places, or — when undefined (NaN)."""
    return "—" if pd.isna(value) else f"{value:.2f}"


def agreement_words(pairs: pd.DataFrame, by: str, seed: int, lang: str, draws: int = 1000) -> pd.DataFrame:
    """`agreement_table` in the report's words: the group, n, agreement, κ, α and the interval (— when
    undefined), the interval seeded with the sample's seed as on the command line."""
    table = agreement_table(pairs, by, seed=seed, draws=draws)
    head = text("filter_obligation" if by == "obligation" else "q_firm", lang)
    return pd.DataFrame({
        head: table["group"].map(lambda g: script(g, lang)), text("q_n", lang): table["n"].astype(int),
        text("q_agreement", lang): table["agreement"].map(number), text("q_kappa", lang): table["kappa"].map(number),
        text("q_alpha", lang): table["alpha"].map(number),
        text("q_interval", lang): [number(lo) if pd.isna(lo) else f"{lo:.2f}–{hi:.2f}"
                                   for lo, hi in zip(table["low"], table["high"], strict=True)]})


def _batches(lot: pd.DataFrame) -> str:
    return ", ".join(sorted({b for x in lot["batches"] for b in str(x).split(",") if b}, key=int))


def recheck_lines(readings: pd.DataFrame, lang: str) -> list[str]:
    """Each lot marked for re-checking and why: its disagreements above the acceptance number, the
    import batches and firm to re-check (the dashboard's 质量 page says the same)."""
    return [text("quality_recheck", lang).format(  # firm names as the caller has them
        stratum=stratum or "—", bad=int(lot["disagree"].sum()), ac=int(lot["ac"].iloc[0]), batches=_batches(lot),
        firm="、".join(sorted(set(lot["firm"]))))
        for stratum, lot in readings[readings["recheck"]].groupby("stratum", sort=True)]


def _lots(readings: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Per lot (stratum): lot size, sample size, items read twice, disagreements, Ac, Re, batches, firm
    and the verdict — re-check (disagreements > Ac), accepted (all read, ≤ Ac), or awaiting readings."""
    rows = []
    for stratum, lot in readings.groupby("stratum", sort=True):
        bad, ac = int(lot["disagree"].sum()), int(lot["ac"].iloc[0])
        verdict = "recheck" if bad > ac else "accept" if lot["read"].all() else "pending"
        rows.append({text("q_stratum", lang): stratum or text("q_all", lang),
                     text("q_lot", lang): int(lot["lot"].iloc[0]), text("q_sample_n", lang): len(lot),
                     text("q_read", lang): int(lot["read"].sum()), text("q_disagree", lang): bad,
                     text("q_ac", lang): ac, text("q_re", lang): int(lot["re"].iloc[0]),
                     text("q_batches", lang): _batches(lot),
                     text("q_firm", lang): "、".join(sorted(set(lot["firm"]))),
                     text("q_verdict", lang): text(f"q_verdict_{verdict}", lang)})
    return pd.DataFrame(rows)


def _sample_section(inputs: QualityInputs, lang: str) -> Section:
    s = inputs.sample
    if s is None:
        return Section("report_quality", [Block("p", text("report_quality_none", lang))])
    its = inputs.readings.assign(  # names in the report's script (a stratum may be a firm or a body)
        firm=inputs.readings["firm"].map(lambda f: script(f, lang)),
        stratum=inputs.readings["stratum"].map(lambda f: script(f, lang)))
    blocks = [Block("p", text("quality_sample", lang).format(
        id=s["id"], seed=s["seed"], size=s["size"], by=s["by"] or "—", aql=s["aql"], as_of=s["as_of"],
        population=s["population"], n=len(its)))]
    blocks += [Block("alert", line) for line in recheck_lines(its, lang)] or [Block("p", text("quality_no_recheck", lang))]
    blocks += [Block("h3", text("quality_lots", lang)), Block("table", table=_lots(its, lang))]
    if not its["read"].any():
        return Section("report_quality", [*blocks, Block("p", text("quality_no_second", lang))])
    pairs = its[its["read"]].rename(columns={"first_outcome": "first"})
    for by, key in (("obligation", "quality_agreement"), ("firm", "quality_agreement_firm")):
        blocks += [Block("h3", text(key, lang)), Block("table", table=agreement_words(pairs, by, int(s["seed"]), lang))]
    blocks += [Block("note", text("quality_undefined", lang)), Block("note", text("quality_interval_note", lang)),
               Block("chart", CHART)]
    return Section("report_quality", blocks)


def claim_words(claim: str, lang: str) -> str:
    """A self-assessment claim in words: an outcome by its name, a number as written."""
    return text(f"outcome_{claim}", lang) if claim in OUTCOMES else claim


def findings_words(summary: str, lang: str) -> str:
    """`on_time 10 · late 1` (the comparison's summary of the findings) in words: 按时 10 · 逾期 1."""
    if summary == "—":
        return summary
    return " · ".join(f"{text('outcome_' + o, lang)} {n}" for o, n in (part.rsplit(" ", 1) for part in summary.split(" · ")))


def self_table(claims: pd.DataFrame, scheme: Scheme, lang: str) -> pd.DataFrame:
    """The comparison in words, one row per claim: body, obligation, claim, its claimed date, the
    third-party finding, items, how many differ, how many the evidence does not support, supported."""
    names = {b.id: script(b.name, lang) for b in scheme.bodies}
    c = claims.sort_values(["body", "obligation"], key=lambda col: col.map(natural_key) if col.name == "obligation"
                           else col, ignore_index=True)
    yes, no = text("self_yes", lang), text("self_no", lang)
    return pd.DataFrame({
        text("name", lang): c["body"].map(lambda b: names.get(b, b)), text("filter_obligation", lang): c["obligation"],
        text("self_claim", lang): c["claim"].map(lambda v: claim_words(v, lang)),
        text("self_claim_published", lang): pd.to_datetime(c["published_at"]).dt.strftime("%Y-%m-%d").fillna(""),
        text("self_third", lang): c["third_party"].map(lambda v: findings_words(v, lang)),
        text("q_n", lang): c["items"].astype(int), text("self_differ", lang): c["differ"].astype(int),
        text("self_unsupported", lang): c["unsupported"].astype(int),
        text("self_supported", lang): c["supported"].map(lambda v: yes if v else no)})


def _self_section(claims: pd.DataFrame, scheme: Scheme, lang: str) -> Section:
    if claims.empty:
        return Section("report_self", [Block("p", text("self_none", lang))])
    flagged = claims[claims["differs"] | ~claims["supported"]]
    blocks = [Block("p", text("self_caption", lang).format(
        bodies=claims["body"].nunique(), claims=len(claims), differ=int(claims["differs"].sum()),
        unsupported=int((~claims["supported"]).sum())))]
    if flagged.empty:
        return Section("report_self", [*blocks, Block("p", text("self_all_agree", lang))])
    return Section("report_self", [*blocks, Block("table", table=self_table(flagged, scheme, lang))])


def sections(inputs: QualityInputs, scheme: Scheme, lang: str) -> list[Section]:
    """The report's two quality sections: the sample (抽查) and the self-assessment comparison (自評)."""
    return [_sample_section(inputs, lang), _self_section(inputs.claims, scheme, lang)]


def figure(inputs: QualityInputs, lang: str) -> go.Figure | None:
    """The obligation × firm heat map of agreement, when some sampled item has been read twice."""
    its = inputs.readings
    if inputs.sample is None or its.empty or not its["read"].any():
        return None
    return agreement_heatmap(its.assign(firm=its["firm"].map(lambda f: script(f, lang))), text("quality_heatmap", lang))
