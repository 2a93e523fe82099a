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


ACCEPTED_ENCODINGS = "UTF-8 (with or without BOM) or GB18030/GBK"


def _common_share(text: str) -> float:
    """The share of a text's Chinese characters (in Simplified form) among the 3,755 most common
    (GB2312 level 1): near 1 for real text, far lower for bytes decoded with the wrong encoding."""
    from scoring.i18n import script

    cjk = [c for c in script(text, "zh-Hans") if "\u4e00" <= c <= "\u9fff"]
    level1 = sum(0xB0 <= c.encode("gb2312", errors="replace")[0] <= 0xD7 for c in cjk)  # "?" is 0x3F
    return level1 / len(cjk) if cjk else 0.0


def unaccepted_encoding(data: bytes) -> str | None:
    """The name of the encoding of a text file that is not read (UTF-16, BIG5), so a refusal can
    say what was found; None for anything else. BIG5 bytes also decode (wrongly) as GB18030: a
    file that is not UTF-8 is BIG5 when its first 64 KB read as common Chinese in BIG5 and not in
    GB18030."""
    head = data[:65536]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    if b"\x00" in head[:4096]:  # UTF-16 without a byte-order mark: text with every ASCII character NUL-padded
        for encoding in ("utf-16-le", "utf-16-be"):
            try:
                text = head[:4096 - 2].decode(encoding)
            except UnicodeDecodeError:
                continue
            if "\x00" not in text and sum(c.isprintable() or c in "\r\n\t" for c in text) >= 0.95 * len(text):
                return "UTF-16"
        return None
    sample = head if len(data) <= len(head) else head[:head.rfind(b"\n") + 1]
    try:
        sample.decode("utf-8")
        return None
    except UnicodeDecodeError:
        pass
    try:
        big5 = _common_share(sample.decode("big5"))
    except UnicodeDecodeError:
        return None
    try:
        gb = _common_share(sample.decode("gb18030"))
    except UnicodeDecodeError:
        gb = 0.0
    return "BIG5" if big5 >= 0.9 and gb < big5 - 0.2 else None


def _cell(v: object) -> str:
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ") if v.time() != dt.time(0) else v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return "" if v is None else str(v)


def _period_cell(v: object) -> str:
    """A 期間 cell as the period it shows: Excel turns a typed `2017-03` into the date 2017-03-01
    (shown as 2017-03, Mar-17 or 2017年3月), so a date on the 1st of a month reads as that month;
    any other date reads as the day it is (a daily label). Text cells stay as typed."""
    if isinstance(v, dt.datetime) and v.time() == dt.time(0):
        v = v.date()
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return f"{v:%Y-%m}" if v.day == 1 else v.isoformat()
    return _cell(v)


def _read_xlsx(data: bytes) -> pd.DataFrame:
    sheet = python_calamine.load_workbook(io.BytesIO(data)).get_sheet_by_index(0)
    raw = sheet.to_python(skip_empty_area=False)
    period = next((i for i, v in enumerate(raw[0]) if _header(_cell(v)) == "period"), None) if raw else None
    rows = [[_period_cell(v) if i == period and n else _cell(v) for i, v in enumerate(row)]
            for n, row in enumerate(raw)]
    if not rows:
        return pd.DataFrame()
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    return pd.DataFrame(rows[1:], columns=rows[0], dtype=str)


def excel_serial_dates(table: pd.DataFrame) -> pd.DataFrame:
    """Date cells of an XLSX whose date format was lost hold Excel's serial day number (42886);
    they are read as the date a spreadsheet shows for them (2017-05-31; 42886.5 → 2017-05-31 12:00).
    Only the date columns, and only five-digit numbers (1927–2173)."""
    for col in ("published_at", "event_at"):
        serial = table[col].str.fullmatch(r"\d{5}(\.\d+)?")
        if serial.any():
            when = pd.Timestamp("1899-12-30") + pd.to_timedelta(pd.to_numeric(table.loc[serial, col]), unit="D")
            table.loc[serial, col] = when.dt.round("min").dt.strftime("%Y-%m-%d %H:%M").str.removesuffix(" 00:00")
    return table


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
    is_xlsx = data[:4] == b"PK\x03\x04" or data[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    if is_xlsx:
        try:
            raw = _read_xlsx(data)
        except Exception as e:  # calamine raises several types for broken workbooks
            raise fail("file", source, f"not a readable XLSX workbook ({type(e).__name__})") from None
    else:
        if (found := unaccepted_encoding(data)) is not None:
            raise fail("file", source, f"the file is {found} text; accepted: {ACCEPTED_ENCODINGS} — "
                                       "save it as UTF-8 CSV (or XLSX) and send it again")
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
    if is_xlsx:
        table = excel_serial_dates(table)
    table.insert(0, "row", range(2, len(table) + 2))
    table = table[(table[list(COLUMNS)] != "").any(axis=1)]
    _check_cells(table, source)
    if table.empty:
        raise fail("file", "", "empty file: no evidence rows")
    table = table.reset_index(drop=True)
    table.attrs["columns"] = present
    return table
