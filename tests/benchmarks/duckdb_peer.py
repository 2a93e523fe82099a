"""The peer a user would otherwise reach for: periodic and deadline scoring as one DuckDB SQL query
over the same evidence frame (docs/method.md §3–4, proportional mode, no bonus or roll-up)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from scoring.method.compiled import rule_table
from scoring.method.rules import expected_items
from scoring.method.scheme import Scheme, parse_scheme

QUERY = """
WITH items AS (
    SELECT a.body, a.rule_id, e.obligation, e.item, e.due
    FROM assessed a JOIN expect e USING (rule_id)
    WHERE e.due < $next_day
), first AS (
    SELECT body, obligation, CASE WHEN period = '' THEN 'deadline' ELSE period END AS item,
           min(published_at) AS published
    FROM ev WHERE published_at < $next_day AND event = ''
    GROUP BY ALL
), judged AS (
    SELECT i.body, i.obligation, i.rule_id,
           CASE WHEN f.published IS NULL THEN 0.0 WHEN f.published <= i.due THEN 1.0 ELSE r.late_credit END AS credit
    FROM items i
    LEFT JOIN first f ON f.body = i.body AND f.obligation = i.obligation AND f.item = i.item
    JOIN rules r ON r.rule_id = i.rule_id
), per_rule AS (
    SELECT body, obligation, rule_id, avg(credit) AS c FROM judged GROUP BY ALL
), per_obligation AS (
    SELECT body, obligation, avg(c) AS c FROM per_rule GROUP BY ALL
)
SELECT o.body, 100 * sum(p.points * o.c) / sum(p.points) AS score
FROM per_obligation o JOIN points p USING (obligation)
GROUP BY o.body ORDER BY o.body
"""


def time_rules_only(scheme: Scheme) -> Scheme:
    """The scheme with only its deadline and periodic rules, proportional, no bonus or roll-up."""
    doc = yaml.safe_load(scheme.text)
    obligations = []
    for o in doc["obligations"]:
        o["rules"] = [r for r in o["rules"] if r["kind"] in ("deadline", "periodic")]
        o.update(mode="proportional", veto=False, bonus=False)
        if o["rules"]:
            obligations.append(o)
    doc["obligations"] = obligations
    doc["scheme"].pop("rollup", None)
    doc["scheme"].pop("bonus", None)
    return parse_scheme(yaml.safe_dump(doc, allow_unicode=True), scheme.id + "-time")


def inputs(scheme: Scheme) -> dict[str, pd.DataFrame]:
    """The small tables the query joins with the evidence: rules, their expected items, who is assessed."""
    items = expected_items(scheme, pd.DataFrame(columns=["event", "obligation", "body"]))
    expect = items.drop_duplicates(["rule_id", "item"])[["rule_id", "obligation", "item", "due"]]
    assessed = items.drop_duplicates(["rule_id", "body"])[["rule_id", "body"]]
    rules = rule_table(scheme).reset_index(names="rule_id")[["rule_id", "late_credit"]]
    points = pd.DataFrame([(o.id, o.points) for o in scheme.obligations], columns=["obligation", "points"])
    return {"expect": expect.astype({"obligation": str, "item": str}), "assessed": assessed.astype({"body": str}),
            "rules": rules, "points": points}


def duckdb_scores(scheme: Scheme, evidence: pd.DataFrame, as_of: dt.date, tables: dict | None = None) -> pd.Series:
    """Scores per body computed by DuckDB."""
    tables = tables or inputs(scheme)
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute("SET enable_progress_bar = false")
    for name, frame in tables.items():
        con.register(name, frame)
    con.register("ev", evidence[["body", "obligation", "period", "event", "published_at"]])
    # the assessment day counts whole: compare with the start of the next day (a parameter would
    # round the engine's last-nanosecond bound to microseconds)
    result = con.execute(QUERY, {"next_day": dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())}).df()
    con.close()
    return result.set_index("body")["score"]


FILE_QUERY = """
CREATE OR REPLACE TABLE ev AS
SELECT n.id AS body, c."任務編號" AS obligation, c."期間" AS period, '' AS event,
       CAST(NULLIF(c."發佈時間", '') AS TIMESTAMP) AS published_at
FROM read_csv($path, all_varchar = true, header = true) c JOIN names n ON n.name = c."單位"
"""


def file_tables(scheme_path: Path) -> dict[str, pd.DataFrame]:
    """The rule tables the peer joins (expected items and their due days, who is assessed on what,
    late credit, points): derived from the scheme once, as a user of the peer would keep them, so
    not part of the timed pipeline."""
    scheme = parse_scheme(Path(scheme_path).read_text(encoding="utf-8"), "peer")
    tables = inputs(time_rules_only(scheme))
    tables["as_of"] = pd.DataFrame({"day": [scheme.default_as_of]})
    return tables


def duckdb_file_scores(scheme_path: Path, csv_path: Path, tables: dict[str, pd.DataFrame]) -> pd.Series:
    """The whole pipeline a user would write instead of `gongkai score --scheme S --evidence F`:
    parse the scheme YAML (PyYAML's C loader; bodies' names to ids), read the CSV with DuckDB and
    score in SQL (deadline and periodic rules, proportional), the rule tables given (`file_tables`)."""
    doc = yaml.load(Path(scheme_path).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    names = pd.DataFrame([(b["id"], b["name"]) for b in doc["bodies"]], columns=["id", "name"])
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute("SET enable_progress_bar = false")
    for name, frame in {**tables, "names": names}.items():
        if name != "as_of":
            con.register(name, frame)
    con.execute(FILE_QUERY, {"path": str(csv_path)})
    as_of = tables["as_of"]["day"].iloc[0]
    result = con.execute(QUERY, {"next_day": dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())}).df()
    con.close()
    return result.set_index("body")["score"]


if __name__ == "__main__":  # python -m tests.benchmarks.duckdb_peer SCHEME.yaml EVIDENCE.csv: the peer as a command
    import sys

    scheme_file, evidence_file = Path(sys.argv[1]), Path(sys.argv[2])
    print(duckdb_file_scores(scheme_file, evidence_file, file_tables(scheme_file)).to_string())
