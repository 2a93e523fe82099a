"""The annual report's quality sections (issue 28): agreement per obligation and per firm with their
1,000-resample bootstrap intervals, the lots and the self-assessment table, built from a sample drawn
by obligation (GB/T 2828.1 sizes) whose second reading differs on every tenth item. The 2017
province (demo evidence) and the nation; tiny and untimed in `make test`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.intake.sampling_plan import sampling_plan
from scoring.method.engine import score
from scoring.method.sampling import draw
from scoring.method.self_assessment import compare
from scoring.report import quality
from tests.benchmarks.conftest import FULL, sized

FIRMS = ("甲公司", "乙公司", "丙公司")


def _inputs(scheme, evidence) -> quality.QualityInputs:
    """A sample by obligation of the scored items, read twice (every tenth item read otherwise), and
    one claim per body × obligation of the first ten bodies."""
    f = score(scheme, evidence).findings
    pop = pd.DataFrame({"body": f["body"].astype(str), "obligation": f["obligation"].astype(str),
                        "kind": f["kind"].astype(str), "item": f["item"].astype(str),
                        "first_outcome": f["outcome"].astype(str), "first_value": f["value"].astype(float)})
    pop = pop.drop_duplicates(["body", "obligation", "item"]).reset_index(drop=True)
    pop["firm"] = [FIRMS[i % 3] for i in range(len(pop))]
    pop["batches"] = "1"
    its = draw(pop, size=None, by="obligation", seed=1, plan=sampling_plan()).reset_index(drop=True)
    flip = np.arange(len(its)) % 10 == 0
    its["second"] = np.where(flip & (its["first_outcome"] != "rated"),
                             np.where(its["first_outcome"] == "missing", "on_time", "missing"), its["first_outcome"])
    its["second_value"] = its["first_value"] - np.where(flip, 5.0, 0.0)
    its["read"] = True
    its["disagree"] = flip
    its["recheck"] = its.groupby("stratum")["disagree"].transform("sum") > its["ac"]
    first = f[f["body"].isin(sorted(f["body"].unique())[:10])].drop_duplicates(["body", "obligation"])
    claims = pd.DataFrame({"body": first["body"], "obligation": first["obligation"], "claim": "on_time",
                           "published_at": None, "url": ""})
    about = {"id": 1, "seed": 1, "size": "auto", "by": "obligation", "aql": "2.5", "as_of": "2018-01-31",
             "population": len(pop)}
    return quality.QualityInputs(about, its, compare(claims, f))


def test_quality_sections_2017_province(benchmark, scheme_2017, demo_evidence):
    inputs = _inputs(scheme_2017, demo_evidence)
    benchmark.extra_info["sampled"] = len(inputs.readings)
    built = benchmark.pedantic(quality.sections, args=(inputs, scheme_2017, "zh-Hans"), rounds=3, iterations=1)
    assert [s.key for s in built] == ["report_quality", "report_self"]


@pytest.mark.parametrize("rows", [50_000 if FULL else 0])
def test_quality_sections_national(benchmark, rows):
    scheme, evidence = sized(rows)
    inputs = _inputs(scheme, evidence)
    benchmark.extra_info["sampled"] = len(inputs.readings)
    built = benchmark.pedantic(quality.sections, args=(inputs, scheme, "zh-Hans"), rounds=1, iterations=1)
    tables = [b.table for b in built[0].blocks if b.table is not None]
    assert len(tables) == 3 and tables[1][tables[1].columns[1]].sum() == len(inputs.readings)
