"""The version of searchidx, in a module of its own so that anything may import
it without importing the rest of the package."""

__version__ = "0.1.0"
