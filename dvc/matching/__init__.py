"""Suggested teams: the matching engine (pure) and its exact reference."""
