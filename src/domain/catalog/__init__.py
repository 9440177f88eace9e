"""Products, variants, categories and price lists."""
