"""Schemathesis over the real API process: every operation of the OpenAPI document, generated
inputs from a fixed seed, a staff (owner) token for /admin. No input may cause a server error,
every answer matches its documented status and schema, and every refusal is problem+json."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from domain.staff.roles import Role
from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.support.http_app import token_for
from tests.support.network import free_port
from tests.support.processes import service_env, start, stop
from tests.support.waiting import GENEROUS, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api(database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = Path(tmp_path_factory.mktemp("schemathesis")) / "serve.log"
    env = service_env(database_url, redis_url, "schemathesis", EMPORIUM_PORT=str(port))
    proc = start([sys.executable, "-m", "entrypoints.cli", "serve", "--workers", "1"], env, log)
    base = f"http://127.0.0.1:{port}"

    def live() -> bool:
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        try:
            return httpx.get(f"{base}/health/live", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(live, GENEROUS, what="emporium serve to answer /health/live")
    yield base
    stop(proc)


@pytest.fixture(scope="module")
async def owner(engine: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token_for(engine, Role.OWNER)}"}


def _document() -> dict[str, Any]:
    """The document the app serves at /schema/openapi.json (building the app connects to nothing)."""
    app = create_app(Container(), configure_logs=False)
    document: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(app.openapi_schema.to_schema()))
    return document  # as served: examples are JSON there, not Structs


schema = schemathesis.openapi.from_dict(_document())


@schema.parametrize()
@settings(max_examples=8, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_input_is_a_server_error(case: Any, api: str, owner: dict[str, str]) -> None:
    response = case.call(base_url=api, headers=owner if case.path.startswith("/admin") else {})
    where = f"{case.method} {case.formatted_path}"
    case.validate_response(response, checks=[response_schema_conformance, status_code_conformance])
    assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
    content_type = (response.headers.get("content-type") or [""])[0]
    if response.status_code >= 400:
        assert content_type.startswith("application/problem+json"), (
            f"{case.method} {case.formatted_path}: {response.status_code} {content_type} {response.text[:200]}")
