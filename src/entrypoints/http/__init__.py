"""The Litestar HTTP application."""
