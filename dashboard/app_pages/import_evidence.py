"""導入 Import: upload, see the row-level report, confirm; download the templates."""

import streamlit as st

from dashboard import data
from dashboard.ui import plain, require, t
from scoring.errors import GongkaiError
from scoring.intake.tables import MAX_FILE_BYTES
from scoring.intake.templates import examples, template_bytes
from scoring.method import kinds as rule_kinds
from scoring.workflows import ImportRefused

c = require("import")
st.title(t("page_import"))
# the limit is said in the label; Streamlit's own line would round 512 MB up to "1GB" (decimal units)
st.html("<style>[data-testid=stFileUploaderDropzoneInstructions] {display: none}</style>")
upload = st.file_uploader(t("upload").format(mb=MAX_FILE_BYTES // 2**20), type=["csv", "xlsx", "xls"],
                          max_upload_size=MAX_FILE_BYTES // 2**20)
if upload is not None:
    raw = upload.getvalue()
    try:  # the preview runs every check the import makes (and a refusal is audited)
        result = data.check_upload(c.db, c.scheme_id, upload.name, raw, c.actor)
    except ImportRefused as error:
        st.error(f"{plain(upload.name)}: {len(error.problems)}{t('problems')}", icon=None)
        st.dataframe([{"row": p.row, "column": p.column, "value": p.value, "reason": p.reason}
                      for p in error.problems], hide_index=True, width="stretch")
        if len(error.rows):
            st.download_button(t("problem_rows"), error.problems_file(),
                               file_name=upload.name.rsplit(".", 1)[0] + ".problems.csv", mime="text/csv")
    except GongkaiError as error:
        st.error(plain(error))
    else:
        st.success(f"{plain(upload.name)}: {result.total}{t('valid_rows')}{t('would_new')} {result.new} · "
                   f"{t('would_replaced')} {result.replaced} · {t('would_unchanged')} {result.unchanged} · "
                   f"{t('would_sightings')} {result.sightings} · {t('would_withdrawn')} {result.withdrawn}")
        if st.button(t("confirm_import"), type="primary",
                     disabled=result.new + result.replaced + result.withdrawn == 0):
            try:
                done = data.do_import(c.db, c.scheme_id, upload.name, raw, c.actor)
            except GongkaiError as error:
                st.error(plain(error))
            else:
                if done.batch_id is None:
                    st.info(t("nothing_changed"))
                else:
                    st.success(f"{t('imported')} {done.batch_id}")
                    st.rerun()

st.subheader(t("templates"))
cols = st.columns(len(examples()))
for col, kind in zip(cols, examples(), strict=True):
    col.caption(rule_kinds.words(kind, st.session_state.get("lang", "zh-Hans")))
    col.download_button("CSV", template_bytes(kind, "csv"), file_name=f"evidence-template-{kind}.csv",
                        mime="text/csv", key=f"tpl_csv_{kind}")
    col.download_button("XLSX", template_bytes(kind, "xlsx"), file_name=f"evidence-template-{kind}.xlsx",
                        key=f"tpl_xlsx_{kind}")
