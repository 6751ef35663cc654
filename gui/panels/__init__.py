"""One module per panel; each panel's only public method is ``show_snapshot(snapshot)``."""
