"""Import templates for assessment firms: one per rule kind, Chinese headers and an example row."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from scoring.intake.tables import COLUMNS
from scoring.method.kinds import kind, kinds


def examples() -> dict[str, dict[str, str]]:
    """Each registered rule kind's example row (declared by the kind: `scoring.method.kinds`)."""
    return {k.name: k.example for k in kinds()}


def template(name: str) -> pd.DataFrame:
    """The template of a rule kind: every column, Chinese headers, one example row."""
    row = {COLUMNS[c]: kind(name).example.get(c, "") for c in COLUMNS}
    return pd.DataFrame([row])


def template_bytes(name: str, fmt: str) -> bytes:
    """A template file as bytes: CSV (UTF-8 with BOM, opens in Excel) or XLSX."""
    frame = template(name)
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8-sig")
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter") as xl:
        frame.to_excel(xl, index=False, sheet_name=name)
        xl.sheets[name].set_column(0, len(COLUMNS) - 1, 16)
        # 期間 as text: Excel would turn a typed 2017-03 into a date
        period = list(COLUMNS).index("period")
        xl.sheets[name].set_column(period, period, 16, xl.book.add_format({"num_format": "@"}))
    return buf.getvalue()


def write_templates(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in examples():
        for fmt in ("csv", "xlsx"):
            path = folder / f"evidence-template-{name}.{fmt}"
            path.write_bytes(template_bytes(name, fmt))
            written.append(path)
    return written
