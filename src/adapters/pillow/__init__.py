"""Images read, checked and re-encoded with Pillow."""
