"""部門 Departments: the same gap view for provincial departments."""

import streamlit as st

from dashboard.ui import body_gap_view, require, synthetic_note, t

require("read")
st.title(t("page_departments"))
synthetic_note()
body_gap_view("department", "pick_department")
