"""Import templates for assessment firms: one per rule kind, Chinese headers and an example row."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from scoring.intake.tables import COLUMNS

EXAMPLES: dict[str, dict[str, str]] = {
    "deadline": {"body": "濟南市", "obligation": "6.7", "published_at": "2017-06-16",
                 "url": "http://www.jinan.gov.cn/…", "note": "實施方案"},
    "periodic": {"body": "省財政廳", "obligation": "1.1.1", "period": "2017-03",
                 "published_at": "2017-04-14 10:00", "url": "http://czt.shandong.gov.cn/…"},
    "response": {"body": "臨沂市", "obligation": "6.3", "event": "E-20170714",
                 "event_at": "2017-07-14 09:20", "step": "release", "published_at": "2017-07-14 12:00"},
    "count": {"body": "青島市", "obligation": "6.1", "period": "2017-09", "published_at": "2017-09-15",
              "note": "常務會議聽取政務公開工作彙報"},
    "rating": {"body": "淄博市", "obligation": "6.4", "value": "86.5", "assessor": "某評估機構"},
    "share": {"body": "聊城市", "obligation": "6.6", "value": "4%", "note": "本級績效考核政務公開分值"},
    "request": {"body": "濰坊市", "obligation": "6.5", "event": "R-2017-017", "event_at": "2017-09-04",
                "step": "reply", "published_at": "2017-09-20", "note": "驗證性申請：答覆（另可填 extension 延期答覆告知、request 申請本身）"},
    "checklist": {"body": "威海市", "obligation": "6.4", "step": "a1", "value": "1",
                  "note": "評分細則：每個檢查項一行，環節填檢查項編號，分值 1 達標 / 0 未達標"},
}


def template(kind: str) -> pd.DataFrame:
    """The template of a rule kind: every column, Chinese headers, one example row."""
    row = {COLUMNS[c]: EXAMPLES[kind].get(c, "") for c in COLUMNS}
    return pd.DataFrame([row])


def template_bytes(kind: str, fmt: str) -> bytes:
    """A template file as bytes: CSV (UTF-8 with BOM, opens in Excel) or XLSX."""
    frame = template(kind)
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8-sig")
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter") as xl:
        frame.to_excel(xl, index=False, sheet_name=kind)
        xl.sheets[kind].set_column(0, len(COLUMNS) - 1, 16)
        # 期間 as text: Excel would turn a typed 2017-03 into a date
        period = list(COLUMNS).index("period")
        xl.sheets[kind].set_column(period, period, 16, xl.book.add_format({"num_format": "@"}))
    return buf.getvalue()


def write_templates(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in EXAMPLES:
        for fmt in ("csv", "xlsx"):
            path = folder / f"evidence-template-{kind}.{fmt}"
            path.write_bytes(template_bytes(kind, fmt))
            written.append(path)
    return written
