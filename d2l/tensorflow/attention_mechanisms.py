"""Chapter 10, Attention Mechanisms, for tensorflow."""

__all__ = []
