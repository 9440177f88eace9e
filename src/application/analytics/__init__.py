"""Analytics: storefront tracking, every domain event as a fact, merchant reports."""
