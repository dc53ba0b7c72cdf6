"""The /_localecr/health endpoint that start-up scripts poll."""

import time


def test_health_reports_ok(server):
    # The request has no Authorization header: health needs no credentials.
    response = server.http.get(server.url + "/_localecr/health", timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "ok"
    assert isinstance(body["version"], str)
    assert body["version"] != ""
    assert isinstance(body["uptime_seconds"], (int, float))
    assert body["uptime_seconds"] >= 0


def test_health_uptime_grows(fresh_server):
    first = fresh_server.http.get(fresh_server.url + "/_localecr/health", timeout=10).json()
    time.sleep(1.1)

    second = fresh_server.http.get(fresh_server.url + "/_localecr/health", timeout=10).json()

    assert second["uptime_seconds"] > first["uptime_seconds"]


def test_unknown_path_not_found(server):
    response = server.http.get(server.url + "/no/such/path", timeout=10)

    assert response.status_code == 404
