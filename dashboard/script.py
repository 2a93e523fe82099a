"""One script per dashboard language: names, grades, titles and quotations come from the scheme and
the evidence as written (Traditional in the 2017 Shandong scheme: 濟南市, 優秀), so the 简体 UI showed
them beside Simplified labels. Here, at the edge where text reaches the page, every table, chart,
text element and choice label is put into the session's script (`scoring.i18n.script`: OpenCC,
characters only; English leaves them as written). The values a page gets back (a chosen body id, an
edited table's numbers) are untouched: only what is shown is converted.

`install()` wraps streamlit's element methods once per process; each call reads the session's
language, so two readers in two languages each see their own."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from scoring.in_script import convert, figure

# element methods whose first argument (or `label`/`body`) is text a reader sees
TEXT = ("title", "header", "subheader", "caption", "markdown", "text", "success", "warning", "info", "error",
        "expander", "metric")
CHOICE = ("selectbox", "multiselect", "radio", "segmented_control", "pills", "select_slider")
AS_WRITTEN = {"lang"}   # the language chooser names each language in its own script: 简体中文, 繁體中文


def _lang() -> str:
    return st.session_state.get("lang", "zh-Hans")


def _wrap_text(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def shown(self, *args, **kwargs):
        lang = _lang()
        args = (convert(args[0], lang), *args[1:]) if args else args
        for key in ("body", "label", "value", "delta"):
            if key in kwargs:
                kwargs[key] = convert(kwargs[key], lang)
        if fn.__name__ == "metric" and len(args) > 1:
            args = (args[0], convert(args[1], lang), *args[2:])
        return fn(self, *args, **kwargs)
    return shown


def _wrap_table(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def shown(self, data=None, *args, **kwargs):
        return fn(self, convert(data, _lang()), *args, **kwargs)
    return shown


def _wrap_editor(fn: Callable) -> Callable:
    """A table the reader edits: only the columns it may not edit (names, titles) are converted, so
    what comes back is what was typed."""
    @functools.wraps(fn)
    def shown(self, data, *args, **kwargs):
        fixed = kwargs.get("disabled")
        if isinstance(data, pd.DataFrame) and isinstance(fixed, list | tuple):
            data = data.copy()
            for col in fixed:
                if col in data:
                    data[col] = convert(data[col], _lang())
        return fn(self, data, *args, **kwargs)
    return shown


def _wrap_choice(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def shown(self, *args, **kwargs):
        if kwargs.get("key") in AS_WRITTEN:
            return fn(self, *args, **kwargs)
        lang = _lang()
        label = kwargs.get("format_func", str)
        kwargs["format_func"] = lambda v: convert(str(label(v)), lang)
        return fn(self, *args, **kwargs)
    return shown


def _wrap_chart(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def shown(self, figure_or_data, *args, **kwargs):
        return fn(self, figure(figure_or_data, _lang()), *args, **kwargs)
    return shown


def install() -> None:
    """Wrap the element methods (once per process) and rebind `st.*` to them."""
    if getattr(DeltaGenerator, "_gongkai_script", False):
        return
    wraps = {**{n: _wrap_text for n in TEXT}, **{n: _wrap_choice for n in CHOICE},
             "dataframe": _wrap_table, "table": _wrap_table, "data_editor": _wrap_editor, "plotly_chart": _wrap_chart}
    for name, wrap in wraps.items():
        setattr(DeltaGenerator, name, wrap(getattr(DeltaGenerator, name)))
        setattr(st, name, getattr(st._main, name))   # st.title is the main area's bound method
    DeltaGenerator._gongkai_script = True   # type: ignore[attr-defined]
