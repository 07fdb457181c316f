"""The coordinator's map (地図): needs, teams in the field, forming and dispatching teams."""
