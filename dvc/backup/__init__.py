"""Backups, restores and the data lifecycle (personal data removed after an operation closes)."""
