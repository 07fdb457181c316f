"""How needs look on the map: one palette for the markers, the clusters and the legend."""
from __future__ import annotations

# Fill colour by status. Red and orange ask for a team (ready, continuing); blues are taken;
# green is done; greys and brown are off the board.
STATUS_COLOURS = {
    "received": "#7b1fa2", "survey": "#c79100", "ready": "#d32f2f", "continuing": "#ef6c00",
    "assigned": "#1565c0", "in_progress": "#00838f", "completed": "#2e7d32",
    "on_hold": "#757575", "cancelled": "#a0a0a0", "referred": "#6d4c41",
}
# Size and ring by priority: urgent needs are big with a thick black ring.
PRIORITY_STYLES = {
    "urgent": {"radius": 10, "weight": 4, "color": "#000000"},
    "high": {"radius": 8, "weight": 3, "color": "#000000"},
    "normal": {"radius": 7, "weight": 1.5, "color": "#ffffff"},
    "low": {"radius": 5, "weight": 1, "color": "#ffffff"},
}
# Statuses a coordinator does not look at by default (merged duplicates end up cancelled).
HIDDEN_BY_DEFAULT = ("cancelled",)
# Statuses that want a team now: counted in each cluster's badge.
WAITING = ("ready", "continuing")
