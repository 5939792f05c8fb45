"""Shared building blocks of ESS instrument plugins (see docs/writing-an-instrument-plugin.md)."""
