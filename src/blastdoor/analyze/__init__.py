"""Analyzers: pure functions from an Action to the Effects it would have."""
