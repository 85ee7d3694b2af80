"""Chapter 10, Attention Mechanisms."""

ENTRIES = []
