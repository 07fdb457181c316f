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

# --- Layers: districts, sites, shelters (the live map and the printed overview) --------------
# Districts are shaded by their open needs on a sequential scale (ColorBrewer YlOrBr, light to
# dark, readable in greyscale); a district with no open need is left unshaded. Few needs use
# the light end only, so a quiet day does not look like a busy one.
NEED_SCALE = ("#fee391", "#fec44f", "#fe9929", "#d95f0e", "#993404")
NO_NEEDS = "#ffffff"
# Sites take a colour and a line pattern by their order (Okabe-Ito colours, safe for the common
# colour blindnesses); the pattern tells service areas apart in greyscale too.
SITE_COLOURS = ("#0072b2", "#009e73", "#000000", "#cc79a7", "#56b4e9", "#e69f00")
SITE_DASHES = ("", "10 5", "3 4", "12 4 3 4")
# Shelters by occupancy: the colour, and the text colour that reads on it.
NEARLY_FULL = 0.8  # of the capacity
SHELTER_CLASSES = ("free", "nearly_full", "full", "closed", "not_open")
SHELTER_COLOURS = {"free": ("#2e7d32", "#ffffff"), "nearly_full": ("#f9a825", "#1b1f24"),
                   "full": ("#c62828", "#ffffff"), "closed": ("#424242", "#ffffff"),
                   "not_open": ("#ffffff", "#424242")}


def need_breaks(highest: int, classes: int = len(NEED_SCALE)) -> list[int]:
    """Return the lowest count of each class of open needs (equal steps up to `highest`)."""
    if highest <= 0:
        return []
    step = -(-highest // classes)  # ceil
    return [1 + i * step for i in range(classes) if 1 + i * step <= highest]


def need_class(count: int, breaks: list[int]) -> int:
    """Return the class index of a count of open needs, or -1 for none."""
    return max((i for i, low in enumerate(breaks) if count >= low), default=-1)


def need_colour(count: int, breaks: list[int]) -> str:
    """Return a district's shade for its open needs."""
    i = need_class(count, breaks)
    return NO_NEEDS if i < 0 else NEED_SCALE[i]


def need_ranges(breaks: list[int], highest: int) -> list[str]:
    """Return each class's range as text for a legend: 1–2, 3–4, 5."""
    ends = [b - 1 for b in breaks[1:]] + [highest]
    return [str(low) if low == end else f"{low}–{end}" for low, end in zip(breaks, ends)]


def site_style(index: int) -> tuple[str, str]:
    """Return the colour and dash pattern of the site at this position."""
    return SITE_COLOURS[index % len(SITE_COLOURS)], SITE_DASHES[index % len(SITE_DASHES)]


def shelter_class(status: str, occupied: int, capacity: int) -> str:
    """Return a shelter's occupancy class: free, nearly_full, full, closed or not_open."""
    if status in ("closed", "not_open"):
        return status
    if status == "full" or occupied >= capacity:
        return "full"
    return "nearly_full" if occupied >= NEARLY_FULL * capacity else "free"
