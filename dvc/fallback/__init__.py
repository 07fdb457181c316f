"""The printed fallback pack (紙での運用): blank forms with pre-printed codes for a power cut."""
