"""審計 Audit trail: who imported, replaced, loaded or scored what, when, with which file hash."""

import streamlit as st

from dashboard import data
from dashboard.ui import require, t

c = require("audit")
st.title(t("page_audit"))
st.caption(t("audit_caption"))
trail = data.audit_trail(c.db, c.actor)
headers = {"id": "audit_id", "at": "audit_when", "actor": "audit_who", "action": "audit_action",
           "scheme": "audit_scheme", "detail": "audit_detail", "sha256": "audit_sha256"}
st.dataframe(trail.rename(columns={k: t(v) for k, v in headers.items()}), hide_index=True, width="stretch")
