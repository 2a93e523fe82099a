"""gongkai scoring: the method as data, a pure rules engine, and the edges that feed it."""

__version__ = "0.1.0"
ENGINE_VERSION = "1"
