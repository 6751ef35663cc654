"""Backprop Lens desktop app (PyQt6 + pyqtgraph). Panels only read core Snapshots."""
