"""The assessment schemes as data (criteria/<scheme-id>.yaml) and the source documents they quote,
shipped as package data so an installed gongkai finds them."""

from importlib.resources import files
from pathlib import Path


def scheme_file(scheme_id: str) -> Path:
    """The path of a shipped scheme file, e.g. `scheme_file("shandong-2017")`."""
    return Path(str(files(__name__) / f"{scheme_id}.yaml"))
