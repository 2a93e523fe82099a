"""Reading an evidence file's bytes (CSV in UTF-8/UTF-8-BOM/GB18030, or XLSX) into a table of strings."""

from __future__ import annotations

import datetime as dt
import io
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import python_calamine

from scoring.errors import EvidenceError, RowProblem, shown
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
MAX_COLUMNS = 200                   # header cells: 12 columns are known, a firm's own extras stay few


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


def _read_xlsx(data: bytes, source: str) -> pd.DataFrame:
    sheet = python_calamine.load_workbook(io.BytesIO(data)).get_sheet_by_index(0)
    if sheet.width > MAX_COLUMNS:  # before its rows are read: the width of the cells that hold something
        raise EvidenceError(source, [RowProblem(1, "file", source, f"the sheet has {sheet.width:,} columns, more than "
                                                f"the limit of {MAX_COLUMNS} (an evidence file has at most 12 known columns)")])
    raw = sheet.to_python(skip_empty_area=False)
    top = _header_row(raw, source)
    raw = raw[top:]
    period = next((i for i, v in enumerate(raw[0]) if _header(_cell(v)) == "period"), None) if raw else None
    rows = [[_period_cell(v) if i == period and n else _cell(v) for i, v in enumerate(row)]
            for n, row in enumerate(raw)]
    if not rows:
        return pd.DataFrame()
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    frame = pd.DataFrame(rows[1:], columns=rows[0], dtype=str)
    frame.attrs["header_row"] = top + 1   # the spreadsheet's row number of the header
    return frame


def _header_row(raw: list[list], source: str, looked: int = 10) -> int:
    """Where the header is: row 1, or the first of the top rows naming two known columns when a
    title (often merged across the columns) sits above it. None found and row 1 holds one text at
    most (a title): said so, naming the row — not a reader's TypeError."""
    for i, row in enumerate(raw[:looked]):
        if sum(_header(_cell(v)) is not None for v in row) >= 2:
            return i
    filled = [t for t in (_cell(v).strip() for v in raw[0]) if t] if raw else []
    if raw and len(filled) <= 1:
        raise EvidenceError(source, [RowProblem(1, "file", filled[0] if filled else "", (
            f"no header row: row 1 must name the columns (單位, 任務編號, 發佈時間 …), or a title above them; "
            f"none of rows 1–{min(looked, len(raw))} names two of them"))])
    return 0


def excel_serial_dates(table: pd.DataFrame) -> pd.DataFrame:
    """Date cells of an XLSX whose date format was lost hold Excel's serial day number (42886);
    they are read as the date a spreadsheet shows for them (2017-05-31; 42886.5 → 2017-05-31 12:00).
    Only the date columns, and only five-digit numbers (1927–2173)."""
    def shown(text: pd.Series) -> pd.Series:
        text = text.astype("str")
        serial = text.str.fullmatch(r"\d{5}(\.\d+)?")
        if serial.any():
            when = pd.Timestamp("1899-12-30") + pd.to_timedelta(pd.to_numeric(text[serial]), unit="D")
            text = text.mask(serial, when.dt.round("min").dt.strftime("%Y-%m-%d %H:%M").str.removesuffix(" 00:00"))
        return text
    for col in ("published_at", "event_at"):
        table[col] = recode(table[col], shown)
    return table


def categorical(values: pd.Series, codes: np.ndarray) -> pd.Series:
    """A text column from its distinct values and each row's code (-1: missing), as a categorical
    whose categories are text; values that are equal share a code."""
    remap, uniques = pd.factorize(values.astype("str"))
    distinct = len(uniques) == len(remap) and bool((remap == np.arange(len(remap))).all())
    if not distinct or not len(remap):  # else the values are a dictionary's, distinct: the codes stand as they are
        codes = np.where(codes < 0, -1, remap[codes]) if len(remap) else np.full(len(codes), -1)
    return pd.Series(pd.Categorical.from_codes(codes.astype(np.int32, copy=False), categories=pd.Index(uniques, dtype="str"),
                                               validate=False))


def recode(text: pd.Series, func) -> pd.Series:
    """A text column (categorical or not) through a Series → Series function of its distinct values,
    as a categorical: the function runs once per distinct value; missing results are missing."""
    cat = text if isinstance(text.dtype, pd.CategoricalDtype) else text.astype("category")
    values = pd.Series(func(pd.Series(cat.cat.categories, dtype="str")))
    codes = cat.cat.codes.to_numpy()
    result = categorical(values, codes)
    result.index = text.index
    return result


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula (=, +, -, @ …) get a leading apostrophe,
    the spreadsheet convention for "this is text"; `read_table` removes it again."""
    out = frame.copy()
    for i in range(out.shape[1]):   # by position: two headers may read alike (two "Obligation" in English)
        col = out.iloc[:, i]
        if col.dtype == object or pd.api.types.is_string_dtype(col):
            text = col.astype(str)
            risky = text.str.startswith(FORMULA_START) & col.notna()
            if risky.any():  # only those cells are rewritten
                out.isetitem(i, col.where(~risky, "'" + text.where(risky, "")))
    return out


_CSV_SPECIAL = np.isin(np.arange(256), [ord(c) for c in ',"\n\r'])  # bytes that make a CSV cell quoted


def _has_byte(text: pa.Array, which: np.ndarray) -> bool:
    """Whether any value of a string array holds one of `which` (a lookup over byte values) among its
    UTF-8 bytes. ASCII bytes never occur inside a multi-byte character, so this is exact for ASCII, and
    one pass over the bytes rather than a regular expression per value."""
    offsets, data = text.buffers()[1:3]
    if data is None or not len(text):
        return False
    at = np.frombuffer(offsets, np.int64 if pa.types.is_large_string(text.type) else np.int32)
    start, end = int(at[text.offset]), int(at[text.offset + len(text)])
    return bool(which[np.frombuffer(data, np.uint8, end - start, start)].any())


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """`frame.to_csv(index=False)` as UTF-8 bytes, the same text, built a column at a time by pyarrow
    (a problem report of a million rows is written in a fraction of pandas' time). Text and integer
    columns; anything else is left to pandas."""
    text_like = all(pd.api.types.is_string_dtype(frame[c]) or pd.api.types.is_integer_dtype(frame[c])
                    for c in frame.columns)
    if len(frame.columns) < 2 or not text_like:
        return frame.to_csv(index=False).encode("utf-8")
    header = frame.iloc[:0].to_csv(index=False).encode("utf-8")
    if frame.empty:
        return header
    empty = pa.scalar("", pa.large_string())
    plain: list[pa.Array] = []
    for c in frame.columns:
        col = frame[c]
        if pd.api.types.is_integer_dtype(col):
            plain.append(pa.array(col.to_numpy()))
            continue
        text = pa.array(col.array if isinstance(col.dtype, pd.StringDtype) else col.astype("str").array)
        text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
        plain.append(pc.fill_null(text, pa.scalar("", text.type)))
    texts = [t for t in plain if not pa.types.is_integer(t.type)]
    if not any(_has_byte(t, _CSV_SPECIAL) for t in texts):
        # nothing to quote (the usual case): pyarrow's own writer, the values as they are
        out = io.BytesIO()
        pacsv.write_csv(pa.Table.from_arrays(plain, names=[str(i) for i in range(len(plain))]), out,
                        pacsv.WriteOptions(include_header=False, quoting_style="none"))
        return header + out.getvalue()
    cells = []
    for values in plain:
        text = values.cast(pa.large_string())
        if pa.types.is_integer(values.type):
            cells.append(text)
            continue
        special = pc.match_substring_regex(text, "[,\"\n]")
        if not pc.any(special).as_py():  # most columns: nothing to quote
            cells.append(text)
            continue
        mark = pa.scalar("\"", pa.large_string())
        quoted = pc.binary_join_element_wise(mark, pc.replace_substring(text, "\"", "\"\""), mark, empty)
        cells.append(pc.if_else(special, quoted, text))  # csv's QUOTE_MINIMAL, as pandas writes it
    lines = pc.binary_join_element_wise(*cells, pa.scalar(",", pa.large_string()))
    lines = pc.binary_join_element_wise(lines, empty, pa.scalar("\n", pa.large_string()))  # each line ended
    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    offsets = np.frombuffer(lines.buffers()[1], np.int64)[lines.offset:lines.offset + len(lines) + 1]
    body = lines.buffers()[2].to_pybytes()[offsets[0]:offsets[-1]]
    return header + body


def _unguard(col: pd.Series) -> pd.Series:
    """Undo `spreadsheet_safe`: '=… back to =…."""
    guarded = col.str.startswith(tuple("'" + c for c in FORMULA_START))
    return col.where(~guarded, col.str.slice(1))


def _too_long(column: str, rows: np.ndarray, values: pd.Series) -> list[RowProblem]:
    return [RowProblem(int(row), column, value[:40] + "…",
                       f"{len(value)} characters, longer than the limit of {MAX_CELL_CHARS} characters")
            for row, value in zip(rows.tolist(), values.tolist(), strict=True)]


def _utf8(data: bytes) -> bytes:
    """A CSV's bytes (after its byte-order mark) as UTF-8: UTF-8 as it is, GB18030/GBK transcoded
    (ValueError if neither)."""
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        return _decode(data).encode("utf-8")


def _mangle(names: list[str]) -> list[str]:
    """Header cells as pandas names them: a blank one `Unnamed: i`, a repeated one `x.1`, `x.2` …"""
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        name = name if name != "" else f"Unnamed: {i}"
        if name in seen:
            base = name
            while name in seen:
                seen[base] += 1
                name = f"{base}.{seen[base]}"
        seen.setdefault(name, 0)
        out.append(name)
    return out


Coded = tuple[pd.Series, np.ndarray]  # a column's distinct raw values (text) and each row's code


def _read_csv_arrow(data: bytes) -> tuple[list[str], list[Coded]] | None:
    """UTF-8 CSV bytes read by pyarrow, every column dictionary-encoded: the header and per column
    (distinct values, per-row codes). None when pyarrow would not read it the way pandas does
    (ragged or blank lines, no rows, an odd quote …): the caller then reads it with pandas, whose
    errors users know."""
    try:
        arrow = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.dictionary(pa.int32(), pa.string()) for i in range(1024)},
                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    if arrow.num_rows < 2 or arrow.num_columns > 1024:
        return None
    arrow = arrow.unify_dictionaries()
    header: list[str] = []
    columns: list[Coded] = []
    for chunked in arrow.columns:
        values = pd.Series(chunked.chunk(0).dictionary, dtype="str")
        codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in chunked.chunks])
        header.append(str(values.iat[codes[0]]))
        columns.append((values, codes[1:]))
    return _mangle(header), columns


def _header_width(data: bytes) -> int:
    """How many cells a CSV's first line has, counted before any row is read (a header of a million
    empty cells took minutes to read): its commas, and when those pass the limit, the cells as the
    csv module reads them (a quoted cell may hold a comma). Only the first line is looked at."""
    end = data.find(b"\n")
    line = data if end < 0 else data[:end]
    if line.count(b",") < MAX_COLUMNS or b'"' not in line:
        return line.count(b",") + 1
    import csv

    text = line.decode("utf-8", errors="replace")
    csv.field_size_limit(max(len(text), 131072))
    return max((len(r) for r in csv.reader(io.StringIO(text))), default=0)


def check_csv_start(data: bytes, source: str) -> None:
    """Refuse a CSV by its first bytes (all of them, or a start holding the whole header line): an
    encoding not read, binary content, a header wider than MAX_COLUMNS."""
    def fail(value: str, reason: str) -> EvidenceError:
        return EvidenceError(source, [RowProblem(1, "file", value, reason)])

    if (found := unaccepted_encoding(data)) is not None:
        raise fail(source, f"the file is {found} text; accepted: {ACCEPTED_ENCODINGS} — "
                           "save it as UTF-8 CSV (or XLSX) and send it again")
    if b"\x00" in data[:4096]:
        raise fail(source, "not a CSV or XLSX file (binary content)")
    if (width := _header_width(data)) > MAX_COLUMNS:
        raise fail(source, f"the header has {width:,} columns, more than the limit of {MAX_COLUMNS} "
                           "(an evidence file has at most 12 known columns)")


def _read_csv(data: bytes, source: str) -> tuple[list[str], list[Coded]]:
    def fail(value: str, reason: str) -> EvidenceError:
        return EvidenceError(source, [RowProblem(1, "file", value, reason)])

    check_csv_start(data, source)
    try:
        text = data.removeprefix(b"\xef\xbb\xbf")
        if (fast := _read_csv_arrow(text)) is not None:  # pyarrow checks the bytes are UTF-8
            return fast
        utf8 = _utf8(text)
        if utf8 is not text and (fast := _read_csv_arrow(utf8)) is not None:
            return fast
        raw = pd.read_csv(io.BytesIO(utf8), dtype=str, keep_default_na=False, skip_blank_lines=False,
                          encoding="utf-8")
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        if isinstance(e, pd.errors.EmptyDataError):
            raise fail("", "empty file: no header and no evidence rows") from None
        raise fail(source, f"not a CSV or XLSX file ({str(e).splitlines()[0]})") from None
    return _coded(raw)


def _coded(raw: pd.DataFrame) -> tuple[list[str], list[Coded]]:
    columns = []
    for i in range(raw.shape[1]):   # by position: blank header cells repeat the name ""
        codes, uniques = pd.factorize(raw.iloc[:, i].astype(str), use_na_sentinel=False)
        columns.append((pd.Series(uniques, dtype="str"), codes))
    return [str(c) for c in raw.columns], columns


def column_mapping(names: list[str], source: str, header_row: int = 1) -> dict[str, int]:
    """Where each known column is among a file's header cells (canonical name → position); an unknown
    or repeated header cell is refused (named at `header_row`). Blank, `Unnamed:` and problem-report
    columns are skipped."""
    mapping: dict[str, int] = {}
    for i, col in enumerate(names):
        name = _header(col)
        if name is None:
            if col.strip() == "" or col.startswith("Unnamed:") or col in REPORT_COLUMNS:
                continue
            valid = ", ".join(f"{k} ({v})" for k, v in COLUMNS.items())
            raise EvidenceError(source, [RowProblem(header_row, shown(col), shown(col),
                                                     f"unknown column; valid columns: {valid}")])
        if name in mapping:
            raise EvidenceError(source, [RowProblem(header_row, shown(col), shown(col), f"column {name} appears twice")])
        mapping[name] = i
    return mapping


def coded_frame(raw: list[Coded], mapping: dict[str, int],
                first_row: int) -> tuple[pd.DataFrame, np.ndarray, list[RowProblem]]:
    """Rows of a file (per column: distinct raw values and each row's code) as the table `read_table`
    gives: a `row` column numbered from `first_row`, every known column stripped, unguarded and
    categorical. Also which rows are blank and the cells longer than MAX_CELL_CHARS."""
    n = len(raw[0][1]) if raw else 0
    rows = np.arange(first_row, n + first_row, dtype=np.int64)
    columns: dict[str, pd.Series] = {"row": pd.Series(rows)}
    blank = np.ones(n, bool)
    long: list[RowProblem] = []
    for col in COLUMNS:
        values, codes = raw[mapping[col]] if col in mapping else (pd.Series([""], dtype="str"), np.zeros(n, np.intp))
        clean = _unguard(values.str.strip()) if len(values) else pd.Series([""], dtype="str")
        columns[col] = column = categorical(clean, codes)
        blank &= (clean == "").to_numpy()[codes]
        if (too_long := (clean.str.len() > MAX_CELL_CHARS).to_numpy()).any():
            at = np.flatnonzero(too_long[codes])
            long += _too_long(col, rows[at], column.iloc[at].astype("str"))
    return pd.DataFrame(columns), blank, long


def read_table(data: bytes, source: str) -> pd.DataFrame:
    """Bytes of a CSV or XLSX file → DataFrame of stripped strings with canonical column names
    and a `row` column (the spreadsheet row number: the header is row 1). The text columns are
    categoricals: a CSV is read from its bytes by pyarrow, each column dictionary-encoded, and
    stripping and the formula guard run once per distinct value."""

    def fail(column: str, value: str, reason: str) -> EvidenceError:
        return EvidenceError(source, [RowProblem(1, column, value, reason)])

    if len(data) > MAX_FILE_BYTES:
        raise fail("file", f"{len(data)} bytes", f"larger than the limit of {MAX_FILE_BYTES} bytes")
    is_xlsx = data[:4] == b"PK\x03\x04" or data[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    header_row = 1
    if is_xlsx:
        try:
            sheet = _read_xlsx(data, source)
            header_row = sheet.attrs.get("header_row", 1)
            names, raw = _coded(sheet)
        except EvidenceError:
            raise
        except Exception as e:  # calamine raises several types for broken workbooks
            raise fail("file", source, f"not a readable XLSX workbook ({type(e).__name__})") from None
    else:
        names, raw = _read_csv(data, source)
    mapping = column_mapping(names, source, header_row)
    table, blank, long = coded_frame(raw, mapping, first_row=header_row + 1)  # spreadsheet row numbers
    if long:
        raise EvidenceError(source, long)
    if is_xlsx:
        table = excel_serial_dates(table)
    table = table[~blank]
    if table.empty:
        raise fail("file", "", "empty file: no evidence rows")
    table = table.reset_index(drop=True)
    table.attrs["columns"] = list(mapping)
    return table
