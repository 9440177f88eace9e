"""Meilisearch: the production search engine behind the ``SearchIndex`` port."""
