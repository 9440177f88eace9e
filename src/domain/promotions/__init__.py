"""Promotions: a typed rule tree with a text form, the pricing engine and the versioned Promotion aggregate."""
