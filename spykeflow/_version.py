"""The single place where the SpykeFlow version is defined."""

__version__ = "0.1.0.dev0"
