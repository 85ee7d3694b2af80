"""Chapter 10, Attention Mechanisms, for torch."""

__all__ = []
