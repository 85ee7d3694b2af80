"""Chapter 10, Attention Mechanisms, for mxnet."""

__all__ = []
