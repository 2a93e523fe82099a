"""差距 City gaps: a city's lost points per obligation with the findings behind them; the heatmap."""

import streamlit as st

from dashboard.ui import body_gap_view, require, synthetic_note, t

require("read")
st.title(t("page_gaps"))
synthetic_note()
body_gap_view("city", "pick_city")
