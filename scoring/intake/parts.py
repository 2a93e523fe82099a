"""Reading and validating a large CSV evidence file a part at a time, so that memory follows the part, not the file.

One pass reads the file in blocks (pyarrow's streaming reader) and spills its rows, as `read_table`
makes them, into parts on disk: every row of one (body, obligation) goes to the same part, so every
check that compares rows (an item's sightings and values, an event's time, a request's replies) sees
all the rows it compares. Each part is then validated as a file of its own; the problems of all parts
are reported together by row, and nothing is returned unless every part is valid. Row numbers are the
file's. A file this does not read the same way as `read_table` (XLSX, a .zip, a small file, a CSV
pyarrow cannot stream: ragged or blank lines, an unreadable encoding …) is left to the caller.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
from pandas.api.types import union_categoricals

from scoring.errors import EvidenceError, GongkaiError, Problems, RowProblem
from scoring.intake.attachments import validate_attached
from scoring.intake.evidence import body_resolver, problem_report, validate
from scoring.intake.names import normalize
from scoring.intake.tables import (
    COLUMNS,
    MAX_FILE_BYTES,
    Coded,
    _mangle,
    check_csv_start,
    coded_frame,
    column_mapping,
)
from scoring.method.scheme import Scheme

PART_BYTES = 16 << 20  # a file larger than this is read in parts of about this size (validating one
# part takes about 8× its size)
BLOCK_BYTES = 4 << 20  # what the streaming reader parses at a time (it reads some blocks ahead)
START_BYTES = 1 << 20  # the start of a file checked before reading (encoding, header width)


class PartsRefused(EvidenceError):
    """A file read in parts with invalid rows: the problems, and the problem rows as sent (`rows`,
    the problem report `problem_report` makes of a whole table)."""

    def __init__(self, error: EvidenceError, rows: pd.DataFrame) -> None:
        super().__init__(error.source, error.problems)
        self.rows = rows


class _NotStreamed(Exception):
    """The file is not read in parts (pyarrow's streaming reader refused it): read it whole."""


class _Hashed:
    """A binary file read once, front to back, hashing what is read (the bytes hashed before the
    import began must be the ones read)."""

    def __init__(self, f: BinaryIO) -> None:
        self.f, self.sha = f, hashlib.sha256()
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.sha.update(data)
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


def part_bytes() -> int:
    """The part size: PART_BYTES, or GONGKAI_IMPORT_PART_BYTES (tests read small files in parts)."""
    raw = os.environ.get("GONGKAI_IMPORT_PART_BYTES", "").strip()
    if not raw:
        return PART_BYTES
    if not raw.isdigit() or int(raw) < 1:
        raise GongkaiError(f"GONGKAI_IMPORT_PART_BYTES={raw!r}: a number of bytes, 1 or more")
    return int(raw)


class Parted:
    """A large CSV's validated evidence, kept on disk a part at a time (Parquet files in a temporary
    folder, removed by `close`): iterating gives each part's evidence as `validate_attached` gives it
    for a file without attachments, one part in memory at a time. Every row of one (body, obligation)
    is in one part, so an item's rows — and the stored records they replace — are in one part."""

    def __init__(self, folder: tempfile.TemporaryDirectory, paths: list[Path], *, rows: int, sightings: int,
                 last_row: int, assessors: set[str], attached: bool) -> None:
        self._folder, self.paths = folder, paths
        self.rows, self.sightings, self.last_row = rows, sightings, last_row  # rows read; the file's last row number
        self.assessors = assessors  # every assessor named (the batch's firm when none is given)
        self._attached = attached

    def __iter__(self) -> Iterator[pd.DataFrame]:
        for path in self.paths:
            ev = pd.read_parquet(path)
            if not self._attached:  # a file without an 附件 column names no attachment
                ev["attachment"] = pd.Series(pd.Categorical.from_codes(np.zeros(len(ev), np.int8),
                                                                       categories=pd.Index([""], dtype="str")))
                ev["captured_at"] = np.full(len(ev), np.datetime64("NaT"), "datetime64[ns]")
            yield ev

    def close(self) -> None:
        self._folder.cleanup()

    def __enter__(self) -> Parted:
        return self

    def __exit__(self, *_) -> None:
        self.close()


def open_parts(data: bytes | Path, scheme: Scheme, source: str, *, digest: str | None = None,
               check: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> Parted | None:
    """The validated evidence of a large CSV, read, checked and kept a part at a time (`Parted`, to
    close); None when the file is not one read this way (the caller reads it whole). Raises
    `EvidenceError` for a file refused while reading (no problem rows) and `PartsRefused` for invalid
    rows — every part's, together. `check`: a further check of each valid part's evidence (a firm's
    assignments), whose problems are reported as validation's. `digest`: the file's sha256 as hashed
    before (a file that changed since is refused)."""
    size = len(data) if isinstance(data, bytes) else data.stat().st_size
    if size <= part_bytes() or size > MAX_FILE_BYTES:
        return None
    start = data[:START_BYTES] if isinstance(data, bytes) else _start(data)
    if start[:4] == b"PK\x03\x04" or start[:8] == bytes.fromhex("D0CF11E0A1B11AE1") or b"\n" not in start:
        return None  # XLSX, or a first line longer than the start: read whole
    check_csv_start(start, source)
    folder = tempfile.TemporaryDirectory(prefix="gongkai-import-")
    try:
        for encoding in ("utf8", "gb18030"):  # as `read_table`: UTF-8 (BOM or not), else GB18030/GBK
            try:
                mapping, paths = _split(data, encoding, scheme, source, Path(folder.name), -(-size // part_bytes()),
                                        digest)
                break
            except _NotStreamed:
                continue
        else:
            folder.cleanup()
            return None
        return _validate_parts(folder, paths, mapping, scheme, source, check)
    except BaseException:
        folder.cleanup()
        raise


def validate_in_parts(data: bytes | Path, scheme: Scheme, source: str, *,
                      digest: str | None = None) -> pd.DataFrame | None:
    """`open_parts`' evidence joined into one frame in file order (its text categorical), as
    `validate_attached` gives the file read whole; None when the file is not read in parts."""
    parted = open_parts(data, scheme, source, digest=digest)
    if parted is None:
        return None
    with parted:
        out = _joined(list(parted))
    out.attrs.update(rows=parted.rows, sightings=parted.sightings)
    return out


def _start(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(START_BYTES)


def _batches(data: bytes | Path, encoding: str, digest: str | None) -> Iterator[pa.RecordBatch]:
    """The file's records in blocks, every column dictionary-encoded (the header is the first record)."""
    options = dict(
        read_options=pacsv.ReadOptions(autogenerate_column_names=True, block_size=BLOCK_BYTES, encoding=encoding),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(
            column_types={f"f{i}": pa.dictionary(pa.int32(), pa.string()) for i in range(1024)},
            strings_can_be_null=False, quoted_strings_can_be_null=False))
    if isinstance(data, bytes):
        yield from pacsv.open_csv(pa.BufferReader(data), **options)
        return
    with data.open("rb") as f:
        hashed = _Hashed(f)
        yield from pacsv.open_csv(hashed, **options)
        if digest is not None and hashed.sha.hexdigest() != digest:
            raise GongkaiError(f"{data.name} changed while it was being imported; nothing from it was stored — "
                               "run the import again once it is written")


def _raw(batch: pa.RecordBatch, skip: int) -> list[Coded]:
    """Per column of a block: its distinct values and each record's code (the first `skip` records left out)."""
    return [(pd.Series(col.dictionary, dtype="str"), col.indices.to_numpy(zero_copy_only=False)[skip:])
            for col in batch.columns]


def _split(data: bytes | Path, encoding: str, scheme: Scheme, source: str, folder: Path, parts: int,
           digest: str | None) -> tuple[dict[str, int], list[Path]]:
    """Read the file once and write its rows (as `read_table` makes them, blank ones dropped) into
    `parts` files, every row of one (body, obligation) into the same one. Returns the header's column
    positions and the parts written. Refuses (EvidenceError) what `read_table` refuses on reading."""
    mapping: dict[str, int] | None = None
    writers: dict[int, ipc.RecordBatchStreamWriter] = {}
    long: list[RowProblem] = []
    records = rows = 0
    try:
        for batch in _batches(data, encoding, digest):
            skip = 0
            if mapping is None:
                header = [str(col.dictionary[col.indices[0].as_py()]) for col in batch.columns]
                mapping, skip = column_mapping(_mangle(header), source), 1
            frame, blank, too_long = coded_frame(_raw(batch, skip), mapping, first_row=records + 1 + skip)
            records += batch.num_rows
            long += too_long
            frame = frame[~blank]
            rows += len(frame)
            if long or frame.empty:  # nothing is validated once a cell is too long: only read on
                continue
            _spill(frame, _part_of(frame, scheme, parts), folder, writers)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, UnicodeDecodeError):
        raise _NotStreamed from None
    finally:
        for w in writers.values():
            w.close()
    if mapping is None or records < 2:
        raise _NotStreamed  # a header alone: `read_table` says what is wrong
    if long:
        order = {c: i for i, c in enumerate(COLUMNS)}  # as `read_table` lists them: by column, then row
        raise EvidenceError(source, sorted(long, key=lambda p: (order[p.column], p.row)))
    if not rows:
        raise EvidenceError(source, [RowProblem(1, "file", "", "empty file: no evidence rows")])
    for col in ("body", "obligation"):
        if col not in mapping:
            raise EvidenceError(source, [RowProblem(1, col, "", f"missing column {col}")])
    return mapping, [folder / f"{k}.arrow" for k in sorted(writers)]


def _part_of(frame: pd.DataFrame, scheme: Scheme, parts: int) -> np.ndarray:
    """Per row: its part, from its body and obligation as validation resolves them (an alias and the
    body's name go together), else as written."""
    resolver = body_resolver(scheme)
    obligations = {normalize(o.id): o.id for o in scheme.obligations}

    def hashes(cat: pd.Series, resolve) -> np.ndarray:
        keys = [resolve(s) or normalize(s) for s in cat.cat.categories]
        return np.array([zlib.crc32(k.encode("utf-8")) for k in keys] + [0], np.int64)[cat.cat.codes.to_numpy()]

    body = hashes(frame["body"], lambda s: resolver.resolve(s)[0])
    obligation = hashes(frame["obligation"], lambda s: obligations.get(normalize(s)))
    return (body * 1_000_003 + obligation) % parts


def _spill(frame: pd.DataFrame, part: np.ndarray, folder: Path, writers: dict[int, ipc.RecordBatchStreamWriter]) -> None:
    """Append each part's rows of a block to its file (text columns as they are: dictionary-encoded)."""
    for k in np.unique(part).tolist():
        rows = frame[part == k]
        batch = pa.RecordBatch.from_pydict({c: pa.array(rows[c].to_numpy()) if c == "row" else _dictionary(rows[c])
                                            for c in frame.columns})
        if k not in writers:
            writers[k] = ipc.new_stream(str(folder / f"{k}.arrow"), batch.schema)
        writers[k].write_batch(batch)


def _dictionary(column: pd.Series) -> pa.DictionaryArray:
    """A categorical column as an Arrow dictionary array of one type (int32 codes, string values)."""
    codes = column.cat.codes.to_numpy().astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32(), mask=codes < 0),
                                          pa.array(column.cat.categories.to_numpy(dtype=object), pa.string()))


def _load(path: Path, mapping: dict[str, int]) -> pd.DataFrame:
    """A part as `read_table` gives a table: `row`, and every known column categorical."""
    with ipc.open_stream(str(path)) as reader:
        part = reader.read_all()
    # each block's values encoded again over the part (a block's dictionary also holds other parts' values)
    table = pd.DataFrame({c: part.column(c).to_numpy() if c == "row"
                          else part.column(c).cast(pa.string()).combine_chunks().dictionary_encode().to_pandas()
                          for c in part.column_names})
    table.attrs["columns"] = list(mapping)
    return table


def _validate_parts(folder: tempfile.TemporaryDirectory, paths: list[Path], mapping: dict[str, int], scheme: Scheme,
                    source: str, check: Callable[[pd.DataFrame], pd.DataFrame] | None) -> Parted:
    """Every part validated (and `check`ed) and its evidence written beside it; or every part's
    problems together."""
    found: list[Problems] = []
    reports: list[pd.DataFrame] = []
    kept: list[Path] = []
    rows = sightings = last_row = 0
    assessors: set[str] = set()
    for path in paths:
        table = _load(path, mapping)
        path.unlink()  # the part as read is not needed again
        try:
            # a file without an 附件 column names no attachment: its two columns are added as a part is read back
            ev = validate_attached(table, scheme, source, None)[0] if "attachment" in mapping else validate(table, scheme, source)
            counted = int(ev.attrs.get("rows", 0)), int(ev.attrs.get("sightings", 0))
            if check is not None:
                ev = check(ev)
        except EvidenceError as e:
            found.append(e.problems)
            reports.append(problem_report(table, e.problems))
            continue
        if found:
            continue  # nothing is kept now: only what reports the problems
        rows, sightings = rows + counted[0], sightings + counted[1]
        last_row = max(last_row, int(ev["row"].max()) if len(ev) else 0)
        assessors.update(str(a) for a in pd.unique(ev["assessor"]))
        ev = ev.assign(**{c: pa.array(ev[c]).dictionary_encode().to_pandas() for c in ev.columns if _is_text(ev[c])})
        kept.append(path.with_suffix(".parquet"))
        ev.to_parquet(kept[-1], index=False)
    if found:
        problems = Problems.concat(found).by_row()
        report = pd.concat(reports, ignore_index=True).sort_values("行號 row", kind="stable").reset_index(drop=True)
        raise PartsRefused(EvidenceError(source, problems), report)
    return Parted(folder, kept, rows=rows, sightings=sightings, last_row=last_row, assessors=assessors,
                  attached="attachment" in mapping)


def _is_text(column: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(column) and not isinstance(column.dtype, pd.CategoricalDtype)


def _joined(evidence: list[pd.DataFrame]) -> pd.DataFrame:
    """The parts' evidence as one frame in file order (by row), its text columns categorical (the
    file's distinct values once, a small integer per row: the parts' text is never all held as text)."""
    order = np.argsort(np.concatenate([e["row"].to_numpy() for e in evidence]), kind="stable")
    attrs = {k: sum(int(e.attrs.get(k, 0)) for e in evidence) for k in ("rows", "sightings")}
    columns: dict[str, pd.Series] = {}
    for c in list(evidence[0].columns):
        pieces = [e.pop(c) for e in evidence]  # each part's column let go as the joined one is made
        if isinstance(pieces[0].dtype, pd.CategoricalDtype):
            columns[c] = pd.Series(union_categoricals([p.array for p in pieces]).take(order))
        else:
            columns[c] = pd.Series(np.concatenate([p.to_numpy() for p in pieces])[order], dtype=pieces[0].dtype)
    out = pd.DataFrame(columns, copy=False)
    out.attrs.update(attrs)
    return out
