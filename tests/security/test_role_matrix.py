"""Every admin operation in the OpenAPI document × anonymous, a bogus token and each staff role,
against a matrix written here by hand (not read from the code it checks).

A cell is "allow" (any answer but 401/403: the request may still be refused as a bad request or
an unknown id) or "deny" (403; 401 for anonymous and bogus). An operation the document lists and
the matrix does not — or the other way round — fails the test, so a new route must take a side.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from domain.staff.roles import Role
from tests.support.http_app import client_for, settings_for, token_for

OWN, M, F, S = "owner", "merchandiser", "fulfilment", "support"

# operation id -> the roles allowed (the owner is listed explicitly: the matrix is the specification)
EXPECTED: dict[str, set[str]] = {
    # catalog: merchandisers
    "admin_create_product": {OWN, M}, "admin_update_product": {OWN, M}, "admin_add_variant": {OWN, M},
    "admin_update_variant": {OWN, M}, "admin_add_option_value": {OWN, M}, "admin_create_price_list": {OWN, M},
    "admin_set_prices": {OWN, M}, "admin_edit_prices": {OWN, M}, "admin_add_category": {OWN, M},
    "admin_move_category": {OWN, M},
    "admin_rename_category": {OWN, M}, "admin_delete_category": {OWN, M},
    "admin_create_collection": {OWN, M}, "admin_arrange_collection": {OWN, M},
    "admin_rename_collection": {OWN, M}, "admin_delete_collection": {OWN, M},
    "admin_create_product_type": {OWN, M}, "admin_list_product_types": {OWN, M}, "admin_get_product_type": {OWN, M},
    "admin_update_product_type": {OWN, M}, "admin_delete_product_type": {OWN, M},
    "admin_upload_image": {OWN, M}, "admin_get_gallery": {OWN, M}, "admin_reorder_images": {OWN, M},
    "admin_describe_image": {OWN, M}, "admin_remove_image": {OWN, M},
    # promotions and search merchandising: merchandisers
    "admin_list_promotions": {OWN, M}, "admin_create_promotion": {OWN, M}, "admin_get_promotion": {OWN, M},
    "admin_edit_promotion": {OWN, M}, "admin_publish_promotion": {OWN, M}, "admin_schedule_promotion": {OWN, M},
    "admin_archive_promotion": {OWN, M}, "admin_add_coupons": {OWN, M}, "admin_preview_promotion": {OWN, M},
    "admin_search_merchandising": {OWN, M}, "admin_add_synonym_group": {OWN, M},
    "admin_remove_synonym_group": {OWN, M}, "admin_add_search_rule": {OWN, M}, "admin_remove_search_rule": {OWN, M},
    "admin_add_search_redirect": {OWN, M}, "admin_remove_search_redirect": {OWN, M},
    # drops (scheduled sales): merchandisers
    "admin_schedule_drop": {OWN, M}, "admin_list_drops": {OWN, M}, "admin_get_drop": {OWN, M},
    "admin_edit_drop": {OWN, M}, "admin_cancel_drop": {OWN, M}, "admin_drop_report": {OWN, M, S},
    # gift cards: money — issuing is the owner's; support and merchandisers may look one up
    "admin_issue_gift_card": {OWN}, "admin_get_gift_card": {OWN, M, S},
    # inventory: fulfilment
    "admin_add_location": {OWN, F}, "admin_stock_levels": {OWN, F}, "admin_reservations_in_flight": {OWN, F},
    "admin_set_stock_policy": {OWN, F}, "admin_receive_stock": {OWN, F}, "admin_adjust_stock": {OWN, F},
    "admin_transfer_stock": {OWN, F}, "admin_stock_movements": {OWN, F},
    # orders: support and fulfilment read; the goods are fulfilment's; refunds and cancels are support's;
    # marking a manual order paid takes fulfilment (who saw the money) or the owner, never support alone
    "admin_list_orders": {OWN, S, F}, "admin_get_order": {OWN, S, F}, "admin_add_order_note": {OWN, S, F},
    "admin_mark_paid": {OWN, F}, "admin_fulfil_order": {OWN, F}, "admin_ship_order": {OWN, F},
    "admin_deliver_order": {OWN, F}, "admin_cancel_order": {OWN, S}, "admin_refund_order": {OWN, S},
    # an order's invoice and credit notes: whoever reads orders
    "admin_list_order_documents": {OWN, S, F}, "admin_get_order_invoice": {OWN, S, F},
    "admin_get_order_credit_note": {OWN, S, F},
    # reports
    "admin_report_sales": {OWN, S}, "admin_report_funnel": {OWN, S}, "admin_report_promotions": {OWN, S, M},
    "admin_report_search_terms": {OWN, S, M}, "admin_report_top_products": {OWN, S, M},
    "admin_report_top_viewed": {OWN, S, M},
    # outbound webhooks: the owner's alone
    "admin_list_webhooks": {OWN}, "admin_create_webhook": {OWN}, "admin_delete_webhook": {OWN},
    "admin_list_webhook_deliveries": {OWN}, "admin_replay_webhook_delivery": {OWN},
    # tax: the US states' sales tax is the owner's to change; merchandisers (who set tax classes) may read it
    "admin_list_state_tax_rates": {OWN, M}, "admin_set_state_tax_rate": {OWN}, "admin_remove_state_tax_rate": {OWN},
    # shipping: merchandisers keep the zones and rates (what a shopper pays, as prices are); fulfilment reads them
    "admin_list_shipping_zones": {OWN, M, F}, "admin_create_shipping_zone": {OWN, M},
    "admin_update_shipping_zone": {OWN, M}, "admin_delete_shipping_zone": {OWN, M},
    "admin_list_shipping_methods": {OWN, M, F}, "admin_create_shipping_method": {OWN, M},
    "admin_update_shipping_method": {OWN, M}, "admin_delete_shipping_method": {OWN, M},
}

# Cells that must never open, whatever else changes.
MUST_DENY = [
    ("admin_set_prices", S), ("admin_edit_prices", S), ("admin_create_price_list", S), ("admin_update_variant", S),
    ("admin_issue_gift_card", M), ("admin_issue_gift_card", S), ("admin_mark_paid", S),
    ("admin_create_webhook", M), ("admin_refund_order", M), ("admin_refund_order", F),
    ("admin_update_shipping_method", S), ("admin_update_shipping_method", F),
]


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    for path, item in schema["paths"].items():
        if not path.startswith("/admin"):
            continue
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield operation["operationId"], method.upper(), path


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str) -> Iterator[Any]:
    with client_for(settings_for(database_url, redis_url)) as client:
        yield client


@pytest.fixture(scope="module")
async def tokens(engine: Any) -> dict[str, str]:
    return {role.value: await token_for(engine, role) for role in Role}


def test_the_matrix_keeps_its_must_deny_cells() -> None:
    assert all(role not in EXPECTED[operation] for operation, role in MUST_DENY)
    assert all(OWN in allowed for allowed in EXPECTED.values())


def test_every_admin_operation_answers_each_caller_as_the_matrix_says(client: Any, tokens: dict[str, str]) -> None:
    operations = sorted(_operations(client.get("/schema/openapi.json").json()))
    assert sorted(op for op, _, _ in operations) == sorted(EXPECTED), "every admin operation takes a side"
    wrong = []
    callers = {"anonymous": None, "bogus": "emp_not-a-token", **tokens}
    for operation, method, path in operations:
        url = re.sub(r"\{[^}]+\}", "zz-none", path)
        for caller, token in callers.items():
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            body = {} if method in {"POST", "PUT", "PATCH"} else None
            status = client.request(method, url, headers=headers, json=body).status_code
            if caller in {"anonymous", "bogus"}:
                ok = status == 401
            elif caller in EXPECTED[operation]:
                ok = status not in {401, 403}
            else:
                ok = status == 403
            if not ok:
                wrong.append(f"{operation} {method} {url} as {caller}: {status}")
    print(f"{len(operations)} operations × {len(callers)} callers checked")
    assert wrong == []
