"""證據 Evidence: browse and filter stored evidence with its provenance and history."""

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.ui import plain, require, t
from scoring.errors import GongkaiError
from scoring.local_time import local_column

c = require("read", "import")
st.title(t("page_evidence"))
ev = data.evidence(c.db, c.scheme_id, c.actor)  # a firm: its assignments and its own imports only
# names from the scheme, not the scorecard: a firm browses evidence but may not read scores
names = {b.id: b.name for b in data.scheme(c.db, c.scheme_id, c.state, c.actor).bodies}
f = st.columns(3)
bodies = f[0].multiselect(t("filter_body"), sorted(ev["body"].unique()), format_func=lambda b: names.get(b, b),
                          placeholder=t("choose_all"))
obligations = f[1].multiselect(t("filter_obligation"), sorted(ev["obligation"].unique()), placeholder=t("choose_all"))
firms = f[2].multiselect(t("filter_firm"), sorted(ev["firm"].unique()), placeholder=t("choose_all"))
HEADERS = {"id": "ev_id", "body": "filter_body", "obligation": "filter_obligation", "period": "ev_period",
           "event": "ev_event", "step": "ev_step", "published_at": "finding_published", "value": "ev_value",
           "url": "report_url", "assessor": "filter_firm", "note": "report_note", "file_name": "ev_file",
           "firm": "ev_firm", "imported_at": "ev_imported_at", "earlier_values": "ev_earlier",
           "imported_by": "ev_imported_by", "rejected": "ev_rejected"}


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """Evidence as a reader sees it: headers in the UI language, times to the minute, no "None"."""
    out = frame.copy()
    if "imported_at" in out:   # stored in UTC, read on the assessment's clock (Asia/Shanghai)
        out["imported_at"] = local_column(out["imported_at"])
    for col in ("published_at", "imported_at"):
        if col in out:
            out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d %H:%M").fillna("")
    if "value" in out:
        out["value"] = out["value"].map(lambda v: "" if pd.isna(v) else f"{v:g}")
    return out.rename(columns={k: t(v) for k, v in HEADERS.items()})


shown = ev
if bodies:
    shown = shown[shown["body"].isin(bodies)]
if obligations:
    shown = shown[shown["obligation"].isin(obligations)]
if firms:
    shown = shown[shown["firm"].isin(firms)]
st.caption(f"{len(shown)}{t('evidence_count')} · {t('provenance')}")
# text from firms' files is shown as data, never as markup
st.dataframe(readable(shown.assign(body=shown["body"].map(names))), hide_index=True, width="stretch")
pick = st.number_input(t("history_pick"), min_value=0, value=0, step=1)
if pick:
    try:
        old = data.history(c.db, int(pick), c.actor)
    except GongkaiError as e:
        st.error(plain(e))
    else:
        if old.empty:
            st.info(t("no_history"))
        else:
            st.dataframe(readable(old), hide_index=True)

if c.actor.may("reject"):
    with st.form("reject"):
        cols = st.columns([1, 3])
        rid = cols[0].number_input(t("reject_id"), min_value=1, step=1)
        reason = cols[1].text_input(t("reject_reason"))
        reject, accept = st.form_submit_button(t("reject_button")), st.form_submit_button(t("accept_button"))
        if reject or accept:
            try:
                if reject:
                    data.reject(c.db, int(rid), reason, c.actor)
                else:
                    data.accept(c.db, int(rid), c.actor)
                st.success(t("rejected" if reject else "accepted"))
            except GongkaiError as e:
                st.error(plain(e))
