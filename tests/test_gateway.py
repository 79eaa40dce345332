"""The gateway service over loopback with a real HTTP client: routes, errors as 4xx naming the field, the bearer
token, Prometheus metrics, the state file, and the command line's refusal without agents."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

pytest.importorskip("starlette", reason="the gateway needs the 'serve' extra")
uvicorn = pytest.importorskip("uvicorn", reason="the gateway needs the 'serve' extra")
httpx = pytest.importorskip("httpx", reason="the tests' HTTP client")

from qiopt.cli import main  # noqa: E402
from qiopt.services import Allocator  # noqa: E402
from qiopt.services.gateway import TOKEN_VARIABLE, create_app  # noqa: E402

AGENTS = [{"id": "a", "capacity": 4}, {"id": "b", "capacity": 3, "skills": ["visa"]}]


@contextmanager
def running(app) -> Iterator[str]:
    """``app`` under uvicorn on a free loopback port, in a thread; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


def test_routes_end_to_end(tmp_path):
    state = tmp_path / "state.json"
    alloc = Allocator(AGENTS, seed=1)
    with running(create_app(alloc, token="", state_path=state)) as url, httpx.Client(base_url=url) as http:
        assert http.get("/health").json() == {"status": "ok", "agents": 2, "requests": 0}
        placed = http.post("/requests", json=[{"id": "r1", "demand": 3, "costs": {"a": 1, "b": 2}},
                                              {"id": "r2", "demand": 2, "skill": "visa"}])
        assert placed.status_code == 200 and placed.json() == {"placements": {"r1": "a", "r2": "b"}}
        again = http.post("/requests", json={"requests": [{"id": "r3", "demand": 2}]})
        assert again.json() == {"placements": {"r3": None}}  # a has 1 left, b has 1 left: nothing fits
        assert http.get("/state").json()["requests"][0] == {"request": {"id": "r1", "demand": 3,
                                                                        "costs": {"a": 1, "b": 2}}, "agent": "a"}
        assert http.request("DELETE", "/requests", json={"ids": ["r1"]}).json() == {"released": 1}
        assert http.post("/agents", json={"id": "c", "capacity": 5, "skills": ["visa"]}).status_code == 201
        assert http.delete("/agents/b").json() == {"placements": {"r2": "c"}}
        assert http.post("/rebalance", json={"migration_cost": 0.5}).status_code == 200
        assert http.post("/rebalance", json={"migration_cost": "x"}).status_code == 400
        assert Allocator.load(state).assignment == alloc.assignment  # saved after every change
        text = http.get("/metrics").text
    assert 'qiopt_requests_total{route="/requests",status="200"} 3' in text
    assert 'qiopt_agent_load{agent="c"} 2' in text and 'qiopt_agent_load{agent="a"} 0' in text
    assert 'qiopt_request_seconds_bucket{route="/requests",le="+Inf"} 3' in text
    assert 'qiopt_request_seconds_count{route="/health"} 1' in text


def test_errors_are_4xx_naming_the_field():
    alloc = Allocator(AGENTS, seed=1)
    with running(create_app(alloc, token="")) as url, httpx.Client(base_url=url) as http:
        bad_json = http.post("/requests", content=b"[{oops", headers={"content-type": "application/json"})
        assert bad_json.status_code == 400 and "not JSON" in bad_json.json()["error"]
        unknown = http.post("/requests", json=[{"id": "r1"}, {"id": "r2", "costs": {"zz": 1}}])
        assert unknown.status_code == 400 and "request 'r2' costs name unknown agent 'zz'" in unknown.json()["error"]
        negative = http.post("/requests", json=[{"id": "r1", "demand": -1}])
        assert negative.status_code == 400 and "request 'r1' demand" in negative.json()["error"]
        assert http.post("/requests", json={"batch": []}).status_code == 400
        missing = http.request("DELETE", "/requests", json={"ids": ["nope"]})
        assert missing.status_code == 404 and "'nope' is not placed" in missing.json()["error"]
        assert http.delete("/agents/zz").status_code == 404
        assert http.post("/agents", json={"id": "a"}).status_code == 400  # already exists
        assert http.post("/agents", json=[1]).status_code == 400
        assert http.get("/state").json()["requests"] == []  # nothing of a bad batch was applied


def test_bearer_token_from_the_environment(monkeypatch):
    secret = "tok-gateway-0123456789-SECRET"
    monkeypatch.setenv(TOKEN_VARIABLE, secret)
    alloc = Allocator(AGENTS, seed=1)
    with running(create_app(alloc)) as url, httpx.Client(base_url=url) as http:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": secret}):
            denied = http.get("/health", headers=headers)
            assert denied.status_code == 401 and secret not in denied.text
        assert http.post("/requests", json=[{"id": "r1"}]).status_code == 401
        ok = {"Authorization": f"Bearer {secret}"}
        assert http.post("/requests", json=[{"id": "r1"}], headers=ok).status_code == 200
        for path in ("/health", "/state", "/metrics"):
            response = http.get(path, headers=ok)
            assert response.status_code == 200 and secret not in response.text


def test_integer_agent_ids_in_paths():
    alloc = Allocator([{"id": 7, "capacity": 2}, {"id": 8, "capacity": 2}], seed=1)
    with running(create_app(alloc, token="")) as url, httpx.Client(base_url=url) as http:
        assert http.post("/requests", json=[{"id": "r", "costs": {"7": 1}}]).status_code == 400  # JSON keys: text
        assert http.delete("/agents/8").status_code == 200 and alloc.agents == [{"id": 7, "capacity": 2}]


def test_serve_command_needs_agents(tmp_path, capsys):
    assert main(["serve", "--state", str(tmp_path / "none.json")]) == 2
    assert "needs --agents" in capsys.readouterr().err
    bad = tmp_path / "agents.json"
    bad.write_text(json.dumps([{"id": "a", "capacity": -1}]))
    assert main(["serve", "--agents", str(bad)]) == 2
    assert "agent 'a' capacity" in capsys.readouterr().err
