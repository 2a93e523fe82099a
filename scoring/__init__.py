"""gongkai scoring: the method as data, a pure rules engine, and the edges that feed it.

Layers, lowest first (kept so by the import-linter contracts in .importlinter, run by `make lint`):
errors/i18n → method → intake | collect → store | synthetic → report → workflows → cli (and dashboard/).
"""

from criteria import scheme_file

__version__ = "0.2.0"  # the package version (pyproject.toml reads it from here)
# the 2017 Shandong scheme: the demo's scheme and the base of the national generator
SCHEME_FILE = scheme_file("shandong-2017")
ENGINE_VERSION = "1"
