"""Page pieces of the assessment cycle: the published-result banner, evidence records with their
preserved files (shown safely by `dashboard.ui.show_attachment`)."""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd
import streamlit as st

from dashboard.ui import Context, show_attachment, t
from scoring.i18n_cycle import cycle_day
from scoring.local_time import local_column
from scoring.store.cycle import Stage
from scoring.workflows import Published


def stage_text(pub: Published) -> str:
    if pub.stage == Stage.FINAL:
        return t("stage_final").format(run=pub.run_id)
    return t("stage_preliminary").format(run=pub.run_id, date=day_text(pub.closes_on, pub.provisional))


def day_text(day: object, provisional: bool) -> str:
    """A cycle date in the UI language, marked 暂定 when computed on an estimated calendar."""
    return cycle_day(day, provisional, st.session_state.get("lang", "zh-Hans"))


def banner(pubs: list[Published]) -> None:
    """Say which published result a page shows: preliminary (with its window) or final (frozen); and
    that its dates are provisional (暂定) while their year's holidays are not loaded."""
    if not pubs:
        st.info(t("no_publication"))
        return
    (st.success if pubs[0].stage == Stage.FINAL else st.warning)(stage_text(pubs[0]))
    if pubs[0].provisional:
        st.caption(t("provisional_note"))


def evidence_with_files(c: Context, ev: pd.DataFrame, key: str, shown: Collection[str] = ()) -> None:
    """Evidence records as data, each preserved file beside them (but those `shown` already)."""
    st.dataframe(ev.drop(columns=["attachment"]).assign(sha256=ev["attachment"]), hide_index=True)
    for sha in ev["attachment"][ev["attachment"] != ""].unique():
        if sha not in shown:
            show_attachment(c, str(sha), key)


def cycle_table(frame: pd.DataFrame, statuses: str, names: dict[str, str] | None = None) -> pd.DataFrame:
    """An appeal or 整改 table as a reader sees it: headers and status values in the UI language
    (`statuses`: "appeal" or "problem"), bodies by name, stored times on the assessment's clock."""
    out = frame.copy()
    if "status" in out:
        out["status"] = out["status"].map(lambda v: t(f"{statuses}_status_{v}"))
    if names and "body" in out:
        out["body"] = out["body"].map(lambda b: names.get(b, b))
    for col in ("filed_at", "decided_at", "updated_at"):
        if col in out:
            out[col] = local_column(out[col]).dt.strftime("%Y-%m-%d %H:%M").fillna("")
    status_columns = {s: t(f"problem_status_{s}") for s in ("open", "rectified", "verified")} if statuses == "problem" else {}
    return out.rename(columns=lambda c: status_columns.get(c) or t(f"cyc_{c}"))
