"""VAT rates written here by hand (not read from the data package the tax adapter reads), by tax class,
in basis points: the rates in force in 2026 as the member states' and the European Commission's
published tables give them, national rates only (no Corsica, Madeira, Azores, Greek islands …).
``reduced`` is a country's lowest reduced rate, ``reduced-2`` the next, ``super-reduced`` one below them
(docs/architecture.md, "Tax"). A country listed here with no reduced class has none (Denmark)."""

from __future__ import annotations

KNOWN: dict[str, dict[str, int]] = {
    "DE": {"standard": 1900, "reduced": 700},
    "FR": {"standard": 2000, "reduced": 550, "reduced-2": 1000, "super-reduced": 210},
    "IT": {"standard": 2200, "reduced": 500, "reduced-2": 1000, "super-reduced": 400},
    "ES": {"standard": 2100, "reduced": 1000, "super-reduced": 400},
    "HU": {"standard": 2700, "reduced": 500, "reduced-2": 1800},
    "DK": {"standard": 2500},
    "PL": {"standard": 2300, "reduced": 500, "reduced-2": 800},
    "NL": {"standard": 2100, "reduced": 900},
    # Austria's 4.9 % on basic foods applies from 1 July 2026.
    "AT": {"standard": 2000, "reduced": 1000, "reduced-2": 1300, "super-reduced": 490},
    "IE": {"standard": 2300, "reduced": 900, "reduced-2": 1350},
    "BE": {"standard": 2100, "reduced": 600, "reduced-2": 1200},
    "SE": {"standard": 2500, "reduced": 600, "reduced-2": 1200},
    "FI": {"standard": 2550, "reduced": 1000, "reduced-2": 1350},  # 25.5 % since 2024, 13.5 % since 2026
    "PT": {"standard": 2300, "reduced": 600, "reduced-2": 1300},
    "LU": {"standard": 1700, "reduced": 800, "reduced-2": 1400, "super-reduced": 300},
    "CZ": {"standard": 2100, "reduced": 1200},
    "RO": {"standard": 2100, "reduced": 1100},  # since August 2025
    "SK": {"standard": 2300, "reduced": 500, "reduced-2": 1900},  # since 2025
    "EE": {"standard": 2400, "reduced": 900, "reduced-2": 1300},  # 24 % since July 2025
    "HR": {"standard": 2500, "reduced": 500, "reduced-2": 1300},
    "GR": {"standard": 2400, "reduced": 600, "reduced-2": 1300},
    "MT": {"standard": 1800, "reduced": 500, "reduced-2": 700},
    "SI": {"standard": 2200, "reduced": 500, "reduced-2": 950},
    "BG": {"standard": 2000, "reduced": 900},
    "GB": {"standard": 2000, "reduced": 500},
    "NO": {"standard": 2500, "reduced": 1200, "reduced-2": 1500},
    "CH": {"standard": 810, "reduced": 260, "reduced-2": 380},
}

EU_MEMBERS = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
    "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)
