"""審計 Audit trail: who imported, replaced, loaded or scored what, when, with which file hash."""

import streamlit as st

from dashboard import data
from dashboard.ui import require, t

c = require("audit")
st.title(t("page_audit"))
st.caption(t("audit_caption"))
st.dataframe(data.audit_trail(c.db, c.actor), hide_index=True, width="stretch")
