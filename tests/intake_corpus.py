"""Tricky evidence files for tests/test_intake_equivalence.py: the demo's file and a rubric's, each
valid and mutated (blank cells and lines, padding, formula guards, duplicate rows, invalid and
far-off dates, unknown bodies, bad values, steps and periods, an attachment column), as UTF-8,
GBK and XLSX. `outcome` is what reading and validating one of them gives, as plain data."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from scoring import SCHEME_FILE
from scoring.errors import EvidenceError
from scoring.intake.evidence import problem_report, validate
from scoring.intake.tables import read_table
from scoring.method.scheme import Scheme, load_scheme
from scoring.synthetic import demo

GOLDEN = Path(__file__).parent / "data" / "intake_golden.json"
CHECKLIST = Path(__file__).parent / "cases" / "checklist.yaml"


def schemes() -> dict[str, Scheme]:
    import yaml

    from tests.conftest import make_scheme

    case = yaml.safe_load(CHECKLIST.read_text(encoding="utf-8"))
    return {"demo": load_scheme(SCHEME_FILE), "rubric": make_scheme(case.get("scheme"), case["bodies"], case["obligations"])}


def _mutate(table: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = table.copy()
    n = len(t)
    cols = list(t.columns)

    def pick(k: int) -> np.ndarray:
        return rng.choice(n, size=min(k, n), replace=False)

    for i in pick(n // 5):  # padding and full-width spaces (read as the same value)
        c = cols[rng.integers(len(cols))]
        t.iat[i, cols.index(c)] = f"  {t.iat[i, cols.index(c)]}\u3000 "
    body, ob = cols[0], cols[1]
    for i in pick(max(3, n // 40)):
        t.iat[i, 0] = rng.choice(["不存在市", "", "濟南", "=濟南市", "'=濟南市", "Jinan "])
    for i in pick(max(3, n // 50)):
        t.iat[i, 1] = rng.choice(["9.9.9", "", "1.1.1 ", "６.２"])
    for c, bad in (("發佈時間", ["2017-13-01", "2917-06-10", "昨天", "2017/5/31", "2017年5月31日 14:00", "",
                                "2017-05-31T14:00+08:00", "42886"]),
                   ("發生時間", ["2017-02-30", "1899-01-01", "2017-07-14 09:00", ""]),
                   ("期間", ["2017-13", "2017-Q5", "2016-12", "2017-W05", "2017"]),
                   ("分值", ["abc", "150", "4%", "-1", "1", "0", "0.5"]),
                   ("環節", ["release", "reply", "extension", "request", "a1", "zz"]),
                   ("事件編號", ["E1", "", "R9"])):
        if c in cols:
            for i in pick(max(3, n // 60)):
                t.iat[i, cols.index(c)] = rng.choice(bad)
    dup = t.iloc[pick(max(3, n // 30))]
    blank = pd.DataFrame([[""] * len(cols)] * 3, columns=cols)
    t = pd.concat([t.iloc[: n // 2], blank, dup, t.iloc[n // 2:]], ignore_index=True)
    t["附件"] = ["" if k % 7 else f"scan{k}.pdf" for k in range(len(t))]
    return t[[body, ob, *cols[2:], "附件"]]


def _valid_variant(table: pd.DataFrame) -> pd.DataFrame:
    """The valid file with padding, guards, repeated rows and blank lines: read as the original."""
    t = table.copy()
    t.iloc[::3, 0] = "  " + t.iloc[::3, 0] + " "
    blank = pd.DataFrame([[""] * len(t.columns)] * 2, columns=t.columns)
    return pd.concat([t.iloc[:10], blank, t.iloc[:5], t.iloc[10:]], ignore_index=True)


def _xlsx(table: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"strings_to_numbers": False, "strings_to_formulas": False})
    ws = wb.add_worksheet()
    ws.write_row(0, 0, list(table.columns))
    for r, row in enumerate(table.itertuples(index=False), start=1):
        for c, v in enumerate(row):
            if v != "":
                ws.write_string(r, c, str(v))
    wb.close()
    return buf.getvalue()


def files() -> dict[str, tuple[str, bytes]]:
    """name → (scheme key, the file's bytes)."""
    s = schemes()
    tables = {"demo": demo.generate(s["demo"]).astype(str)}
    import yaml

    case = yaml.safe_load(CHECKLIST.read_text(encoding="utf-8"))
    tables["rubric"] = pd.read_csv(io.StringIO(case["evidence"]), dtype=str, keep_default_na=False)
    out: dict[str, tuple[str, bytes]] = {}
    for key, table in tables.items():
        variants = {"valid": _valid_variant(table), "bad": _mutate(table, 13)}
        for v, t in variants.items():
            text = t.to_csv(index=False)
            out[f"{key}-{v}.csv"] = (key, text.encode("utf-8"))
            out[f"{key}-{v}-bom.csv"] = (key, text.encode("utf-8-sig"))
            out[f"{key}-{v}-gbk.csv"] = (key, text.encode("gb18030"))
            out[f"{key}-{v}-crlf.csv"] = (key, text.replace("\n", "\r\n").encode("utf-8"))
            out[f"{key}-{v}.xlsx"] = (key, _xlsx(t))
    head = "單位,任務編號,期間,發佈時間\n"
    for name, text in {"short-rows": head + "省財政廳,1.1.1,2017-03\n省財政廳,1.1.1\n",
                       "long-row": head + "省財政廳,1.1.1,2017-03,2017-04-10,x\n",
                       "blank-lines": head + "\n省財政廳,1.1.1,2017-03,2017-04-10\n\n",
                       "quoted": head + '"省財政廳","1.1.1","2017-03","2017-04-10"\n" 省財政廳\n",1.1.1,2017-04,2017-05-10\n',
                       "header-only": head, "twice": "單位,单位,任務編號\n省財政廳,省財政廳,1.1.1\n",
                       "blank-header": "單位,,任務編號,期間,發佈時間\n省財政廳,x,1.1.1,2017-03,2017-04-10\n"}.items():
        out[f"{name}.csv"] = ("demo", text.encode("utf-8"))
    return out


def outcome(scheme: Scheme, name: str, data: bytes) -> dict:
    """What reading and validating a file gives: the validated rows, or the problems and report."""
    try:
        table = read_table(data, name)
    except EvidenceError as e:
        return {"read_problems": [[p.row, p.column, p.value, p.reason] for p in e.problems]}
    try:
        ev = validate(table, scheme, name)
    except EvidenceError as e:
        report = problem_report(table, e.problems)
        return {"problems": [[p.row, p.column, p.value, p.reason] for p in e.problems],
                "report": report.astype(str).to_csv(index=False)}
    rows = [[str(x) for x in r] for r in ev.astype(object).values.tolist()]
    return {"dtypes": {c: str(t) for c, t in ev.dtypes.items()}, "attrs": {k: ev.attrs[k] for k in ("rows", "sightings")},
            "first_rows": rows[:5], "rows_sha256": hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()}


def base(name: str) -> str:
    """The file a variant is an encoding of (its golden outcome): demo-bad-gbk.csv → demo-bad.csv."""
    for suffix in ("-bom", "-gbk", "-crlf"):
        name = name.replace(suffix + ".", ".")
    return name


def capture() -> dict:
    s = schemes()
    return {name: outcome(s[key], name, data) for name, (key, data) in files().items() if base(name) == name}


if __name__ == "__main__":  # python -m tests.intake_corpus: capture the golden outcomes (from the code before issue 13)
    GOLDEN.write_text(json.dumps(capture(), ensure_ascii=False, indent=0), encoding="utf-8")
