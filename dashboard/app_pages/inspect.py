"""网站检查 Website inspection: each polled site judged against the website indicators as of a
date — verdicts, then one site's checks with the polls and captures behind each; the failed sites
can be imported as evidence of the platform obligation (a firm sees only its assigned bodies)."""

import streamlit as st

from dashboard import data
from dashboard.ui import require, t
from scoring.errors import GongkaiError
from scoring.workflows.inspection import findings_table, verdicts_table

c = require("collect")
st.title(t("page_inspect"))
st.caption(t("inspect_caption"))
inspection, today, results = data.inspection(c.db, c.scheme_id, None, c.actor)
day = st.date_input(t("inspect_as_of"), value=today, key="inspect_as_of")
if day != today:
    inspection, day, results = data.inspection(c.db, c.scheme_id, day, c.actor)
if not results:
    st.info(t("inspect_none"))
    st.stop()
verdicts = verdicts_table(results).assign(verdict=lambda f: f["verdict"].map(lambda v: t(f"inspect_{v}")))
st.subheader(t("inspect_verdicts"))
st.dataframe(verdicts.rename(columns={k: t(f"inspect_{k}") for k in verdicts.columns}), hide_index=True, width="stretch")
labels = {f"{r.body} · {r.site}": i for i, r in enumerate(results)}
chosen = results[labels[str(st.selectbox(t("inspect_pick"), list(labels)))]]
if not chosen.services:
    out_of = chosen.judgement.out_of
    st.caption(t("inspect_scaled").format(out_of=out_of, factor=f"{inspection.header.total:g}/{out_of:g}"))
table = findings_table([chosen])
table["kind"] = table["kind"].map(lambda k: t(f"inspect_{k}"))
table["result"] = [t(f"inspect_{f.result}") + (f" {f.deduction:g}" if f.result == "deduct" else "")
                   for f in chosen.judgement.findings]
shown = ["check", "name", "kind", "measured", "threshold", "result", "polls", "captures", "settings"]
st.dataframe(table[shown].rename(columns={k: t(f"inspect_{k}") for k in shown}), hide_index=True, width="stretch")
failed = [r for r in results if r.judgement.verdict == "failed"]
obligation = inspection.header.feeds.get("obligation", "")
if c.actor.may("import") and failed and obligation and \
        st.button(t("inspect_feed").format(n=len(failed), obligation=obligation)):
    try:
        _, done = data.inspection_to_evidence(c.db, c.scheme_id, day, c.actor)
    except GongkaiError as e:
        st.error(str(e))
    else:
        st.success(t("inspect_fed").format(batch=done.batch_id, new=done.new, replaced=done.replaced,
                                           unchanged=done.unchanged))
