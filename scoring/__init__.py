"""gongkai scoring: the method as data, a pure rules engine, and the edges that feed it."""

from pathlib import Path

__version__ = "0.1.0"
# the 2017 Shandong scheme: the demo's scheme and the base of the national generator
SCHEME_FILE = Path(__file__).resolve().parents[1] / "criteria" / "shandong-2017.yaml"
ENGINE_VERSION = "1"
