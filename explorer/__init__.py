"""The explorer: a PyQt6 desktop app that animates hash-map operations for teaching.

``explorer.model`` holds everything that is not drawing (timeline, checkpoints, frames,
narration, demos) and never imports Qt; ``explorer.ui`` holds the thin Qt views.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
