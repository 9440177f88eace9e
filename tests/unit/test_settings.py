from entrypoints.settings import from_environ


def test_defaults_point_at_localhost_services() -> None:
    settings = from_environ({})
    assert settings.database_url.startswith("postgresql+psycopg://postgres@127.0.0.1:5432/")
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.port == 8000


def test_environment_variables_override_and_are_typed() -> None:
    settings = from_environ(
        {"DATABASE_URL": "postgresql://u@db/x", "REDIS_URL": "redis://r:1/2", "EMPORIUM_PORT": "9001",
         "EMPORIUM_RESERVATION_TTL_SECONDS": "120", "EMPORIUM_LOG_JSON": "false"}
    )
    assert (settings.database_url, settings.redis_url, settings.port) == ("postgresql://u@db/x", "redis://r:1/2", 9001)
    assert settings.reservation_ttl_seconds == 120
    assert settings.log_json is False


def test_the_document_micro_cache_expires_and_remembers_misses(monkeypatch) -> None:
    from types import SimpleNamespace

    from entrypoints.http import caching
    from entrypoints.http.caching import MicroCache, render

    # The cache's own clock, moved by the test: with the real one a busy machine could let the
    # entries lapse between put and get, and a sleep would only guess how long a lapse takes.
    now = [1000.0]
    monkeypatch.setattr(caching, "time", SimpleNamespace(monotonic=lambda: now[0]))
    cache = MicroCache(ttl=0.05, max_entries=2)
    cache.put("a", render({"x": 1}, ("product-a",)))
    cache.put("missing", None)
    now[0] += 0.04  # within the ttl
    hit, value = cache.get("a")
    assert hit
    assert value is not None
    assert value.surrogate_keys == ("product-a",)
    assert cache.get("missing") == (True, None)  # a 404 is cached too, briefly
    now[0] += 0.02  # past it
    assert cache.get("a") == (False, None)
    cache.put("b", None)
    cache.put("c", None)  # over capacity: expired entries are dropped first
    assert cache.get("c") == (True, None)
