"""Text in one script: values shown to a reader (strings, frames, a chart's figure) put into the
script of the reader's language (`scoring.i18n.script`: OpenCC, characters only; English leaves them
as written). Used where text reaches a page (dashboard/script.py) and for the report's charts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from scoring.i18n import script


def convert(value: Any, lang: str) -> Any:
    """Text in `value` (a string, a frame, a figure's dict, a list) in the script of `lang`; other
    values as they are."""
    if lang == "en":
        return value
    if isinstance(value, str):
        return script(value, lang)
    if isinstance(value, pd.DataFrame):
        out = value.copy()
        for col in out.columns:
            if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
                out[col] = out[col].map(lambda v: script(v, lang) if isinstance(v, str) else v)
        out.columns = [convert(c, lang) for c in out.columns] if not isinstance(out.columns, pd.MultiIndex) \
            else out.columns
        if out.index.dtype == object:
            out.index = [convert(i, lang) for i in out.index]
        return out
    if isinstance(value, pd.Series):
        return value.map(lambda v: script(v, lang) if isinstance(v, str) else v)
    if isinstance(value, dict):
        return {k: convert(v, lang) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(convert(v, lang) for v in value)
    if isinstance(value, np.ndarray) and value.dtype == object:
        return np.array([convert(v, lang) for v in value.tolist()], dtype=object)
    return value


def figure(fig: Any, lang: str) -> Any:
    """A plotly figure with every text in it (names, categories, titles) in the script of `lang`."""
    if lang == "en" or not isinstance(fig, go.Figure):
        return fig
    return go.Figure(convert(fig.to_dict(), lang))
