"""證據 Evidence: browse and filter stored evidence with its provenance and history."""

import streamlit as st

from dashboard import data
from dashboard.ui import ctx, t

c = ctx()
st.title(t("page_evidence"))
ev = data.evidence(c.db, c.scheme_id, c.state)
names = {b.id: b.name for b in c.card.scheme.bodies}
f = st.columns(3)
bodies = f[0].multiselect(t("filter_body"), sorted(ev["body"].unique()), format_func=lambda b: names.get(b, b))
obligations = f[1].multiselect(t("filter_obligation"), sorted(ev["obligation"].unique()))
firms = f[2].multiselect(t("filter_firm"), sorted(ev["firm"].unique()))
shown = ev
if bodies:
    shown = shown[shown["body"].isin(bodies)]
if obligations:
    shown = shown[shown["obligation"].isin(obligations)]
if firms:
    shown = shown[shown["firm"].isin(firms)]
st.caption(f"{len(shown)}{t('evidence_count')} · {t('provenance')}")
# text from firms' files is shown as data, never as markup
st.dataframe(shown.assign(body=shown["body"].map(names)), hide_index=True, width="stretch")
pick = st.number_input(t("history_pick"), min_value=0, value=0, step=1)
if pick:
    old = data.history(c.db, int(pick))
    st.dataframe(old, hide_index=True) if not old.empty else st.info(t("no_history"))
