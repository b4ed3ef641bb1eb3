"""The single place where the SpykeFlow version is defined."""

__version__ = "0.2.0.dev0"
