"""報告 Report: generate the annual report of the current run and download it."""

import streamlit as st

from dashboard import data
from dashboard.ui import plain, require, t
from scoring.report.write import FORMATS

c = require("score")
st.title(t("page_report"))
formats = st.multiselect(t("report_formats"), list(FORMATS), default=[".xlsx", ".html"])
if st.button(t("report_generate"), type="primary", disabled=not formats):
    for fmt, (content, problem) in data.report_files(c.db, c.scheme_id, c.as_of, formats, c.lang, c.actor).items():
        if problem:
            st.error(f"{fmt}: {plain(problem)}")
        elif fmt.endswith(".csv"):   # a part written apart (appendix, body sections): under its own name
            part = fmt.removeprefix(f"{data.REPORT_NAME}-").removesuffix(".csv")
            st.download_button(f"{t('report_download')} {part} (CSV)", content, file_name=fmt, key=f"dl{fmt}")
        else:
            st.download_button(f"{t('report_download')} {fmt}", content, file_name=f"{data.REPORT_NAME}{fmt}",
                               key=f"dl{fmt}")
