"""The ``emporium`` command line."""
