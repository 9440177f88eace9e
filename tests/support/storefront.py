"""A shopper on the storefront over HTTP: a cookie jar of their own, and a checkout walked to payment."""

from __future__ import annotations

import uuid

import httpx

BERLIN = {"name": "Ada Lovelace", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117",
          "country": "DE"}
SAN_FRANCISCO = {"name": "Grace Hopper", "line1": "1 Market St", "city": "San Francisco", "postal_code": "94105",
                 "country": "US", "region": "CA"}

# A valid address in each EU member state's capital (the address rules of each country: postal code
# formats, a province where one is required).
EU_CAPITALS = {
    country: {"name": "Ada Lovelace", "line1": "Main Street 1", "city": city, "postal_code": postal_code,
              "country": country, "region": region}
    for country, (city, postal_code, region) in {
        "AT": ("Wien", "1010", ""), "BE": ("Bruxelles", "1000", ""), "BG": ("Sofia", "1000", ""),
        "CY": ("Nicosia", "1010", ""), "CZ": ("Praha", "110 00", ""), "DE": ("Berlin", "10117", ""),
        "DK": ("København", "1050", ""), "EE": ("Tallinn", "10111", ""), "ES": ("Madrid", "28013", "M"),
        "FI": ("Helsinki", "00100", ""), "FR": ("Paris", "75001", ""), "GR": ("Athina", "105 57", ""),
        "HR": ("Zagreb", "10000", ""), "HU": ("Budapest", "1051", ""), "IE": ("Dublin", "D02 X285", "Co. Dublin"),
        "IT": ("Roma", "00184", "RM"), "LT": ("Vilnius", "01103", ""), "LU": ("Luxembourg", "1009", ""),
        "LV": ("Riga", "LV-1050", ""), "MT": ("Valletta", "VLT 1117", ""), "NL": ("Amsterdam", "1012 JS", ""),
        "PL": ("Warszawa", "00-001", ""), "PT": ("Lisboa", "1100-148", ""), "RO": ("Bucuresti", "010011", "Bucuresti"),
        "SE": ("Stockholm", "111 52", ""), "SI": ("Ljubljana", "1000", ""), "SK": ("Bratislava", "811 01", ""),
    }.items()
}


class Browser:
    """One shopper's cookie jar on the shared test client (switched in for each request)."""

    def __init__(self, client) -> None:
        self.client = client
        self.jar = httpx.Cookies()
        self.email = f"ada-{uuid.uuid4().hex[:10]}@example.com"  # each shopper's own: limits count per address

    def request(self, method: str, url: str, **kwargs):
        self.client.cookies = self.jar
        headers = dict(kwargs.pop("headers", {}))
        csrf = self.jar.get("emporium_csrf")
        if csrf and kwargs.pop("csrf", True):
            headers["X-CSRF-Token"] = csrf
        if method.upper() not in ("GET", "HEAD", "OPTIONS"):
            # What a browser sends with an unsafe request from the storefront's own page.
            headers.setdefault("Origin", str(self.client.base_url).rstrip("/"))
        response = self.client.request(method, url, headers=headers, **kwargs)
        self.jar = httpx.Cookies(self.client.cookies)
        return response

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, **kw):
        return self.request("POST", url, **kw)

    def patch(self, url, **kw):
        return self.request("PATCH", url, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)


def checkout_to(shopper: Browser, address: dict, method: str, provider: str) -> dict:
    """The shopper's cart through every checkout step up to a started payment; the checkout as answered."""
    started = shopper.post("/store/checkout")
    assert started.status_code == 201, started.text
    checkout_id = started.json()["id"]
    assert shopper.request("PUT", f"/store/checkout/{checkout_id}/contact",
                           json={"email": shopper.email}).status_code == 200
    put = shopper.request("PUT", f"/store/checkout/{checkout_id}/address", json={"shipping": address})
    assert put.status_code == 200, put.text
    offered = [o["id"] for o in shopper.get(f"/store/checkout/{checkout_id}/shipping-options").json()]
    assert method in offered
    assert shopper.request("PUT", f"/store/checkout/{checkout_id}/shipping",
                           json={"method_id": method}).status_code == 200
    paying = shopper.post(f"/store/checkout/{checkout_id}/payment", json={"provider": provider})
    assert paying.status_code == 200, paying.text
    return paying.json()
