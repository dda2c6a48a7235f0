"""Tests of the pure coordination core (no Home Assistant needed)."""
