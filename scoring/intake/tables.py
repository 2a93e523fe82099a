"""Reading an evidence file's bytes (CSV in UTF-8/UTF-8-BOM/GB18030, or XLSX) into a table of strings."""

from __future__ import annotations

import datetime as dt
import io
import re

import pandas as pd
import python_calamine

from scoring.errors import EvidenceError, RowProblem
from scoring.intake.names import normalize

# spec §5: canonical column → its Chinese header (as the spec writes it; Simplified also matches)
COLUMNS: dict[str, str] = {
    "body": "單位",
    "obligation": "任務編號",
    "period": "期間",
    "event": "事件編號",
    "event_at": "發生時間",
    "step": "環節",
    "published_at": "發佈時間",
    "value": "分值",
    "url": "網址",
    "assessor": "評估機構",
    "note": "備註",
    "attachment": "附件",  # a file in the import's .zip or --attachments folder (scoring.intake.attachments)
}
_HEADER_KEYS = {normalize(k): k for k in COLUMNS} | {normalize(v): k for k, v in COLUMNS.items()}
REPORT_COLUMNS = ("行號 row", "問題 problems")  # added by the problem report; ignored on re-import
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_FILE_BYTES = 512 * 1024 * 1024  # one upload or import file
MAX_CELL_CHARS = 2000               # one cell: a URL or a note is never longer


def _header(cell: str) -> str | None:
    """Canonical name of a header cell: `body`, `單位`, `单位`, `body (單位)` or `單位 body`."""
    text = str(cell)
    candidates = [text, *re.split(r"[()（）\s/]+", text)]
    for c in candidates:
        key = _HEADER_KEYS.get(normalize(c)) if c.strip() else None
        if key:
            return key
    return None


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("not UTF-8 or GB18030 text")


def _cell(v: object) -> str:
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ") if v.time() != dt.time(0) else v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return "" if v is None else str(v)


def _read_xlsx(data: bytes) -> pd.DataFrame:
    sheet = python_calamine.load_workbook(io.BytesIO(data)).get_sheet_by_index(0)
    rows = [[_cell(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
    if not rows:
        return pd.DataFrame()
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    return pd.DataFrame(rows[1:], columns=rows[0], dtype=str)


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula (=, +, -, @ …) get a leading apostrophe,
    the spreadsheet convention for "this is text"; `read_table` removes it again."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            text = out[col].astype(str)
            risky = text.str.startswith(FORMULA_START) & out[col].notna()
            out[col] = out[col].where(~risky, "'" + text)
    return out


def _unguard(col: pd.Series) -> pd.Series:
    """Undo `spreadsheet_safe`: '=… back to =…."""
    guarded = col.str.startswith(tuple("'" + c for c in FORMULA_START))
    return col.where(~guarded, col.str.slice(1))


def _check_cells(table: pd.DataFrame, source: str) -> None:
    problems = []
    for col in COLUMNS:
        long = table[col].str.len() > MAX_CELL_CHARS
        for row, value in table.loc[long, ["row", col]].itertuples(index=False):
            problems.append(RowProblem(int(row), col, value[:40] + "…",
                                       f"{len(value)} characters, longer than the limit of {MAX_CELL_CHARS} characters"))
    if problems:
        raise EvidenceError(source, problems)


def read_table(data: bytes, source: str) -> pd.DataFrame:
    """Bytes of a CSV or XLSX file → DataFrame of stripped strings with canonical column names
    and a `row` column (the spreadsheet row number: the header is row 1)."""

    def fail(column: str, value: str, reason: str) -> EvidenceError:
        return EvidenceError(source, [RowProblem(1, column, value, reason)])

    if len(data) > MAX_FILE_BYTES:
        raise fail("file", f"{len(data)} bytes", f"larger than the limit of {MAX_FILE_BYTES} bytes")
    if data[:4] == b"PK\x03\x04" or data[:8] == bytes.fromhex("D0CF11E0A1B11AE1"):
        try:
            raw = _read_xlsx(data)
        except Exception as e:  # calamine raises several types for broken workbooks
            raise fail("file", source, f"not a readable XLSX workbook ({type(e).__name__})") from None
    else:
        if b"\x00" in data[:4096]:
            raise fail("file", source, "not a CSV or XLSX file (binary content)")
        try:
            text = _decode(data)
            raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                              skip_blank_lines=False)
        except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
            if isinstance(e, pd.errors.EmptyDataError):
                raise fail("file", "", "empty file: no header and no evidence rows") from None
            raise fail("file", source, f"not a CSV or XLSX file ({str(e).splitlines()[0]})") from None
    mapping: dict[str, str] = {}
    for col in raw.columns:
        name = _header(str(col))
        if name is None:
            if str(col).strip() == "" or str(col).startswith("Unnamed:") or str(col) in REPORT_COLUMNS:
                continue
            valid = ", ".join(f"{k} ({v})" for k, v in COLUMNS.items())
            raise fail(str(col), str(col), f"unknown column; valid columns: {valid}")
        if name in mapping.values():
            raise fail(str(col), str(col), f"column {name} appears twice")
        mapping[str(col)] = name
    table = raw[list(mapping)].rename(columns=mapping).astype(str)
    present = list(table.columns)
    for col in COLUMNS:
        table[col] = _unguard(table[col].str.strip()) if col in table else ""
    table = table[list(COLUMNS)]
    table.insert(0, "row", range(2, len(table) + 2))
    table = table[(table[list(COLUMNS)] != "").any(axis=1)]
    _check_cells(table, source)
    if table.empty:
        raise fail("file", "", "empty file: no evidence rows")
    table = table.reset_index(drop=True)
    table.attrs["columns"] = present
    return table
