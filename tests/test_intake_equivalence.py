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
