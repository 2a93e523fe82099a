"""A synthetic second year — clearly labelled, not the real 2018 plan: the 2017 scheme moved to 2018
with the changes a real second year brings — 萊蕪市 merged into 濟南市, 省環保廳 renamed 省生態環境廳
(the 2018 機構改革), one obligation dropped (2.3) and one added (7.1) — and the crosswalk saying so.
The demo stores it beside 2017 so that the year-over-year pages have two years to compare."""

from __future__ import annotations

import datetime as dt
import re

import yaml

ID = "synthetic-2018"
TITLE = "2018年政務公開工作要點（合成示例，非真實文件）"
NOTE = "合成示例數據：由2017年方案推演，非山東省2018年真實工作要點"
MERGED, INTO = "laiwu", "jinan"
RENAMED = ("huanbao", {"id": "shengtai", "name": "省生態環境廳", "kind": "department",
                       "aliases": ["山東省生態環境廳", "省環保廳"]})
DROPPED = "2.3"
ADDED = {"id": "7.1", "section": ["七、合成示例新增任務"], "title": "推進政務公開標準目錄編制（合成示例）",
         "source": NOTE, "applies_to": ["city"], "points": 3,
         "rules": [{"kind": "deadline", "label": "10月底前公開本級政務公開事項標準目錄（合成示例）", "due": dt.date(2018, 10, 31)}]}


def second_year(first: str) -> str:
    """The second year's scheme file (YAML text) from the 2017 scheme file's text."""
    doc = yaml.safe_load(re.sub(r"\b2017-(?=\d\d|W\d\d|Q\d)", "2018-", first))
    doc["scheme"] |= {"id": ID, "title": TITLE, "document": NOTE, "as_of": dt.date(2019, 1, 31)}
    old, new = RENAMED
    doc["bodies"] = [new if b["id"] == old else b for b in doc["bodies"] if b["id"] != MERGED]
    obligations = []
    for ob in doc["obligations"]:
        if ob["id"] == DROPPED:
            continue
        ob["leads"] = [new["id"] if x == old else x for x in ob.get("leads", [])]
        for rule in ob["rules"]:
            if rule.get("bodies"):
                rule["bodies"] = [new["id"] if x == old else x for x in rule["bodies"]]
        obligations.append(ob)
    doc["obligations"] = [*obligations, ADDED]
    doc["lineage"] = {"previous": "shandong-2017", "bodies": [
        {"from": [INTO, MERGED], "to": INTO, "change": "merged", "on": dt.date(2018, 1, 1), "weights": [0.842, 0.158],
         "note": "合成示例：萊蕪市實際於2019年1月9日宣佈併入濟南市；權重按2017年常住人口（732萬、138萬）"},
        {"from": old, "to": new["id"], "change": "renamed", "on": dt.date(2018, 10, 27),
         "note": "2018年機構改革：省環保廳改為省生態環境廳"}],
        "obligations": [{"from": DROPPED, "change": "dropped", "note": "合成示例：假定次年要點不再列此項"},
                        {"to": ADDED["id"], "change": "new"}]}
    head = f"# {TITLE}\n# {NOTE}。Derived by scoring/synthetic/second_year.py from criteria/shandong-2017.yaml.\n"
    return head + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=140)
