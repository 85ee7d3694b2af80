"""Chapter 13, Computer Vision."""

# --- 13.3-13.4 Bounding boxes and anchors ---
from . import boxes

BOXES_ENTRIES = boxes.ENTRIES

ENTRIES = BOXES_ENTRIES
