"""The fast reader and validator (issue 13: pyarrow, dictionary codes) give what the code before
them gave, byte for byte: the same validated rows, the same problems (row, column, value, reason)
and the same problem report, for UTF-8, UTF-8 with BOM, GBK, CRLF and XLSX files full of traps
(tests/intake_corpus.py; the golden outcomes were captured from the code before the change)."""

from __future__ import annotations

import json

import pytest

from tests import intake_corpus as corpus

GOLDEN = json.loads(corpus.GOLDEN.read_text(encoding="utf-8"))
FILES = corpus.files()
SCHEMES = corpus.schemes()


@pytest.mark.parametrize("name", sorted(FILES))
def test_same_outcome_as_before(name):
    key, data = FILES[name]
    got = corpus.outcome(SCHEMES[key], name, data)
    want = GOLDEN[corpus.base(name)]
    if "problems" in want:
        assert got.get("problems") == want["problems"]
        assert got["report"] == want["report"]
    else:
        assert got == want


def test_many_bad_rows_are_each_reported_once_in_order():
    """Linear problem reports: 20,000 bad rows, each named, each once in the report with all its
    problems joined in the order found; the file-level problem first."""
    from scoring.errors import EvidenceError, RowProblem
    from scoring.intake.evidence import problem_report, validate
    from scoring.intake.tables import read_table

    scheme = SCHEMES["demo"]
    n = 20_000
    text = "單位,任務編號,期間,發佈時間\n" + "".join(f"省財政廳,X{i},2017-01,2017-02-03\n" for i in range(n))
    text += "不存在市,Y,2017-01,2017-13-45\n"
    table = read_table(text.encode(), "bad.csv")
    with pytest.raises(EvidenceError) as e:
        validate(table, scheme, "bad.csv")
    problems = e.value.problems
    assert len(problems) == n + 2
    assert problems[n - 1] == RowProblem(n + 1, "obligation", f"X{n - 1}", "unknown obligation")
    assert problems[n:] == [RowProblem(n + 2, "body", "不存在市", "unknown body"),
                            RowProblem(n + 2, "obligation", "Y", "unknown obligation")]
    report = problem_report(table, [RowProblem(1, "file", "bad.csv", "a file-level note"), *problems])
    assert len(report) == n + 2
    assert (report.iloc[0]["問題 problems"], report.iloc[0]["行號 row"]) == ("file: a file-level note", 1)
    assert report["行號 row"].tolist()[1:] == list(range(2, n + 3))
    assert report.iloc[-1]["問題 problems"] == "body: unknown body; obligation: unknown obligation"
    assert report.iloc[-1]["任務編號"] == "Y"


def test_problem_files_are_written_as_pandas_writes_them():
    """csv_bytes (the fast writer of problem files) gives pandas' to_csv text byte for byte."""
    import pandas as pd

    from scoring.intake.tables import csv_bytes, spreadsheet_safe

    tricky = pd.DataFrame({"問題 problems": pd.Series(['a, "b"', "x\ry", "多\n行", "", None, "=1+1", " s "], dtype="str"),
                           "行號 row": [2, 3, 4, 5, 6, 7, 8],
                           "單位": pd.Series(["濟南市", "", "q\"", "\u2028", "'=x", "-1", "a\tb"], dtype="str")})
    plain = tricky.iloc[3:]  # nothing to quote: pyarrow's own writer takes these
    frames = [tricky, spreadsheet_safe(tricky), tricky.iloc[:0], plain, spreadsheet_safe(plain)]
    for name, (key, data) in FILES.items():
        got = corpus.outcome(SCHEMES[key], name, data)
        if "report" in got:
            frames.append(pd.read_csv(__import__("io").StringIO(got["report"]), dtype=str, keep_default_na=False))
    for frame in frames:
        assert csv_bytes(frame) == frame.to_csv(index=False).encode("utf-8")
