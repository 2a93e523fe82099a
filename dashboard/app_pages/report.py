"""報告 Report: generate the annual report of the current run and download it."""

import streamlit as st

from dashboard import data
from dashboard.ui import plain, require, t

c = require("score")
st.title(t("page_report"))
formats = st.multiselect(t("report_formats"), [".xlsx", ".docx", ".html", ".pdf"], default=[".xlsx", ".html"])
if st.button(t("report_generate"), type="primary", disabled=not formats):
    for fmt in formats:
        content, problem = data.report_file(c.db, c.scheme_id, c.as_of, fmt, c.lang, c.actor)
        if problem:
            st.error(f"{fmt}: {plain(problem)}")
        else:
            st.download_button(f"{t('report_download')} {fmt}", content, file_name=f"gongkai-report{fmt}",
                               key=f"dl{fmt}")
