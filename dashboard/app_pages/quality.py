"""质量 Quality: the latest sample (抽查) — agreement of the two readings per obligation × firm as a
heat map, the lots marked for re-checking, agreement per obligation, and the items in dispute."""

import math

import streamlit as st

from dashboard import data
from dashboard.ui import plain, require, t, upload_once
from scoring.errors import GongkaiError
from scoring.report.quality import recheck_lines
from scoring.report.quality_charts import agreement_heatmap

c = require("quality", "sample_read", "second")


def settle_form(pending) -> None:
    """An evaluator settles one item in dispute: keep the first reading, take the second, or a new
    value, with a reason — the same workflow as `gongkai sample settle`."""
    st.subheader(t("quality_settle"))
    with st.form("settle"):
        label = {int(r.id): f"{r.id} · {r.body} · {r.obligation} · {r.item}（{r.first_outcome or r.first_value} ≠ "
                            f"{r.second or r.second_value}）" for r in pending.itertuples()}
        item = st.selectbox(t("quality_settle_item"), list(label), format_func=lambda i: label[i], key="settle_item")
        how = st.radio(t("quality_settle_how"), ["keep", "take", "value"], horizontal=True, key="settle_how",
                       format_func=lambda h: t("quality_settle_value_choice" if h == "value" else f"quality_settle_{h}"))
        value = st.text_input(t("quality_settle_value"), key="settle_value")
        reason = st.text_input(t("quality_settle_reason"), key="settle_reason")
        if st.form_submit_button(t("quality_settle_submit")):
            try:
                batch = data.settle(c.db, c.scheme_id, int(item), how, reason, value, c.actor)
            except GongkaiError as e:
                st.error(plain(e))
            else:
                st.success(t("quality_settled").format(id=item) + (t("quality_settled_batch").format(batch=batch)
                                                                   if batch else ""))

st.title(t("page_quality"))
if c.actor.may("sample"):  # draw a sample: the same workflow as `gongkai sample draw`
    with st.expander(t("quality_draw")), st.form("draw"):
        seed = st.number_input(t("quality_draw_seed"), min_value=0, value=0, step=1, key="draw_seed")
        size = st.text_input(t("quality_draw_size"), value="auto", key="draw_size")
        by = st.selectbox(t("quality_draw_by"), ["", "body", "obligation", "firm"], key="draw_by",
                          format_func=lambda b: b or "—")
        if st.form_submit_button(t("quality_draw_submit")):
            try:
                made = data.draw_sample(c.db, c.scheme_id, int(seed) or None, size.strip(), by or None, c.actor)
            except GongkaiError as e:
                st.error(plain(e))
            else:
                st.success(t("quality_drawn").format(id=made.id, seed=made.seed, n=len(made.items), population=made.population))
drawn = data.sample_items(c.db, c.scheme_id, c.actor)
if drawn is None:
    st.info(t("quality_no_sample"))
    st.stop()
sample, items = drawn
cols = st.columns(2)
cols[0].download_button(t("quality_export"), data.export_blind(c.db, c.scheme_id, c.actor),
                        file_name=f"sample-{sample.id}-blind.csv", mime="text/csv", key="blind_export")
if c.actor.may("second"):  # a second firm's readings: stored apart, never scored until settled
    upload = cols[1].file_uploader(t("quality_second"), type=["csv", "xlsx"], key="second_upload")
    done = upload_once(upload, "second_done",
                       lambda data_, name: data.import_second(c.db, c.scheme_id, name, data_, c.actor))
    if done is not None:
        st.success(t("quality_second_done").format(n=done.rows, none=done.not_found, id=done.sample_id))
        drawn = data.sample_items(c.db, c.scheme_id, c.actor)
        assert drawn is not None
        sample, items = drawn
if not c.actor.may("quality"):  # a firm: its assigned items of the sample, blind
    st.dataframe(items, hide_index=True, width="stretch")
    st.stop()
st.caption(t("quality_sample").format(id=sample.id, seed=sample.seed, size=sample.size, by=sample.by or "—",
                                      aql=sample.aql, as_of=sample.as_of, population=sample.population, n=len(items)))
for line in recheck_lines(items, c.lang):
    st.error(plain(line))
if not items["read"].any():
    st.info(t("quality_no_second"))
else:
    st.plotly_chart(agreement_heatmap(items, t("quality_heatmap")), width="stretch")
    st.subheader(t("quality_agreement"))
    table = data.agreement(c.db, c.scheme_id, c.actor)
    st.dataframe(table.map(lambda v: "—" if isinstance(v, float) and math.isnan(v) else v),
                 hide_index=True, width="stretch")
    st.caption(t("quality_undefined"))
    if c.actor.may("sample"):
        st.subheader(t("quality_disputes"))
        disputes = data.disagreements(c.db, c.scheme_id, c.actor)
        if disputes.empty:
            st.info(t("quality_no_disputes"))
        else:
            st.dataframe(disputes, hide_index=True, width="stretch")
            pending = disputes[disputes["settled"] == ""]
            if len(pending):
                settle_form(pending)
st.subheader(t("quality_items"))
st.dataframe(items.drop(columns=["sample_id", "disagree", "recheck"], errors="ignore"), hide_index=True, width="stretch")
