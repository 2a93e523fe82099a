"""The report as a Word document: docxtpl renders templates/report.docx (real Word tables,
宋体/黑体 set on the styles) with the chart images from kaleido."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage

from scoring.report.images import images
from scoring.report.model import Report

TEMPLATE = Path(__file__).with_name("templates") / "report.docx"


def _cell(key: str, value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}" if key in ("score", "lost") else f"{value:g}"
    return str(value)


def _rows(frame: pd.DataFrame, keys: list[str]) -> list[dict]:
    """Rows by column position (the report's headers are translated; the template's keys are not)."""
    return [{k: _cell(k, v) for k, v in zip(keys, row, strict=False)}
            for row in frame.astype(object).to_numpy().tolist()]


def _headers(report: Report) -> dict[str, str]:
    t = report.t
    keys = {"summary": "report_summary", "rankings": "report_rankings", "charts": "report_charts",
            "bodies_section": "report_bodies", "method": "report_method", "appendix": "report_appendix",
            "kind": "report_kind", "bodies": "bodies_assessed", "average": "average", "share": "share_compliance",
            "grades": "report_grade_counts", "rank": "rank", "name": "name", "score": "score", "grade": "grade",
            "share_rule": "share_rule", "veto": "veto", "obligation": "filter_obligation",
            "title": "obligation_title", "lost": "finding_lost", "rule": "finding_rule", "item": "finding_item",
            "due": "finding_due", "published": "finding_published", "outcome": "finding_outcome",
            "late": "finding_late", "points": "points", "rules": "rules", "quote": "report_quote",
            "url": "report_url", "note": "report_note"}
    return {k: t(v) for k, v in keys.items()}


def context(report: Report, doc: DocxTemplate, charts: dict[str, Path]) -> dict:
    t = report.t
    h = report.card.scheme.scheme
    grade_names = [g.name for g in h.grades]
    summary = [{"kind": r[0], "bodies": r[1], "average": f"{r[2]:.2f}", "share": r[3],
                "grades": " / ".join(f"{g} {int(n)}" for g, n in zip(grade_names, r[4:], strict=True))}
               for r in report.summary.itertuples(index=False)]
    ev = report.evidence
    meta = (f"{h.document} · {t('as_of')} {report.card.as_of} · {t('report_run')} {report.run_id or '—'} · "
            f"{t('report_records')} {ev.records} · {t('report_firms')} {'、'.join(ev.firms)} · "
            f"{t('report_generated')} {report.generated}")
    return {
        "title": report.title, "meta": meta, "h": _headers(report), "summary": summary,
        "rankings": [{"kind": t(f"kind_{k}"), "rows": _rows(v, ["rank", "name", "score", "grade", "share", "veto"])}
                     for k, v in report.rankings.items()],
        "charts": [InlineImage(doc, str(p), width=Mm(165)) for p in charts.values()],
        "bodies": [{"heading": f"{b['name']}（{b['kind']}） {t('score')} {b['score']:.2f} · {t('rank')} {b['rank']} · "
                               f"{t('grade')} {b['grade']}",
                    "veto": f"{t('veto')}: {b['veto']}" if b["veto"] else "",
                    "gaps": _rows(b["gaps"], ["obligation", "title", "lost"]),
                    "findings": _rows(b["findings"], ["obligation", "rule", "item", "due", "published", "outcome",
                                                      "late", "lost"])} for b in report.bodies],
        "method": _rows(report.method, ["obligation", "section", "title", "points", "rules", "quote"]),
        "appendix": _rows(report.appendix, ["name", "obligation", "item", "due", "published", "outcome", "late",
                                            "url", "note"]),
    }


def write_docx(report: Report, path: Path) -> None:
    doc = DocxTemplate(str(TEMPLATE))
    with tempfile.TemporaryDirectory(prefix="gongkai-docx-") as tmp:
        charts = images(report, Path(tmp))
        doc.render(context(report, doc, charts), autoescape=True)
        doc.save(str(path))
