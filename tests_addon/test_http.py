"""The add-on over real HTTP on 127.0.0.1 with the SDK's clients.

Auth (missing/wrong token, secret path), Origin rejection, the legacy SSE
transport, read-only refusal, the two-step confirmation, the audit log, secret
redaction in results, the audit log and logs, and the ingress status page.
"""

from __future__ import annotations

import json
import logging

import httpx2
import pytest
from conftest import Http
from energy_coordinator_mcp.context import AddonContext
from helpers import call, eventually, held, ok
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from stack import Stack

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"},
    },
}
HEADERS = {"Accept": "application/json, text/event-stream"}


def bearer_client(url: str, token: str | None, mode: str = "auto") -> Client:
    """An SDK client of a Streamable HTTP URL with a bearer token."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = httpx2.AsyncClient(headers=headers, timeout=30)
    return Client(streamable_http_client(url, http_client=http), mode=mode)


async def test_missing_and_wrong_token_get_401(http: Http) -> None:
    async with httpx2.AsyncClient(timeout=10) as raw:
        missing = await raw.post(http.mcp_url, json=INITIALIZE, headers=HEADERS)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Bearer")
        wrong = await raw.post(
            http.mcp_url,
            json=INITIALIZE,
            headers=HEADERS | {"Authorization": "Bearer not-the-token"},
        )
        assert wrong.status_code == 401
        wrong_path = await raw.post(
            f"{http.base}/not-the-secret/mcp", json=INITIALIZE, headers=HEADERS
        )
        assert wrong_path.status_code == 401
        health = await raw.get(f"{http.base}/health")
        assert health.status_code == 200 and health.json()["ha_connected"] is True


async def test_bad_origin_gets_403(http: Http) -> None:
    auth = {"Authorization": f"Bearer {http.ctx.credentials.token}"}
    async with httpx2.AsyncClient(timeout=10) as raw:
        evil = await raw.post(
            http.mcp_url,
            json=INITIALIZE,
            headers=HEADERS | auth | {"Origin": "http://evil.example"},
        )
        assert evil.status_code == 403
        rebinding = await raw.post(
            f"{http.secret_url}/mcp",
            json=INITIALIZE,
            headers=HEADERS | {"Origin": "http://attacker.test:8765"},
        )
        assert rebinding.status_code == 403
        allowed = await raw.post(
            http.mcp_url,
            json=INITIALIZE,
            headers=HEADERS | auth | {"Origin": "http://localhost:6274"},
        )
        assert allowed.status_code == 200, allowed.text


async def test_bearer_token_current_protocol(http: Http) -> None:
    async with held(bearer_client(http.mcp_url, http.ctx.credentials.token)) as client:
        assert client.protocol_version >= "2026"
        tools = (await client.list_tools()).tools
        assert len(tools) == 15
        status = await ok(client, "get_site_status")
        assert status["solar"].endswith(" kW")
        resources = (await client.list_resources()).resources
        assert {str(r.uri) for r in resources} >= {"energy://site", "energy://plan"}
    line = http.ctx.audit.tail(1)[0]
    assert line["tool"] == "get_site_status"
    assert line["caller"] == "mcp:token@127.0.0.1"
    assert line["outcome"] == "ok"


async def test_initialize_era_client_with_token(http: Http) -> None:
    async with held(
        bearer_client(http.mcp_url, http.ctx.credentials.token, mode="legacy")
    ) as client:
        assert client.protocol_version < "2026"
        tools = (await client.list_tools()).tools
        assert tools[0].name == "get_site_status"
        chargers = await ok(client, "list_chargers")
        assert chargers["total"] == 2
        prompt = await client.get_prompt(
            "diagnose_charger", {"charger": "t-001", "language": "pt-BR"}
        )
        assert "Diagnostique o carregador t-001" in prompt.messages[0].content.text  # type: ignore[union-attr]


async def test_secret_path_without_headers(http: Http) -> None:
    async with held(Client(f"{http.secret_url}/mcp")) as client:
        status = await ok(client, "get_site_status")
        assert status["home_battery"].startswith("63.0 %")
    assert http.ctx.audit.tail(1)[0]["caller"] == "mcp:secret-path@127.0.0.1"


async def test_legacy_sse_under_the_secret_path(http: Http) -> None:
    """HA's own `mcp` client integration connects like this (SSE, no headers)."""
    async with held(Client(sse_client(f"{http.secret_url}/sse"), mode="legacy")) as c:
        tools = (await c.list_tools()).tools
        assert len(tools) == 15
        found = await ok(c, "search_entities", query="garage socket")
        assert found["items"][0]["id"] == "switch.garage_socket"
        site = await c.read_resource("energy://site")
        assert "solar" in json.loads(site.contents[0].text)  # type: ignore[union-attr]
    async with httpx2.AsyncClient(timeout=5) as raw:
        bare = await raw.get(f"{http.base}/sse")
        assert bare.status_code == 401


async def test_read_only_hides_and_refuses(ro_http: Http) -> None:
    token = ro_http.ctx.credentials.token
    async with held(bearer_client(ro_http.mcp_url, token)) as client:
        names = [t.name for t in (await client.list_tools()).tools]
        assert names == [
            "get_site_status",
            "list_chargers",
            "get_plan",
            "explain_decision",
            "get_sessions",
            "search_entities",
            "get_states",
            "get_history",
        ]
        refused, is_error = await call(
            client, "set_charge_mode", loadpoint="t-001", mode="now"
        )
        assert is_error and "read-only" in refused["error"]
        refused, is_error = await call(
            client,
            "call_service",
            domain="input_boolean",
            service="turn_on",
            entity_id="input_boolean.kitchen_light",
        )
        assert is_error and "read-only" in refused["error"]
        assert (await ok(client, "get_site_status"))["solar"].endswith("kW")
    # The in-process path (the assistant) is refused too, not only hidden.
    direct = await ro_http.ctx.registry.call(
        "stop_charging", {"charger": "t-001"}, "assistant"
    )
    assert direct.is_error and "read-only" in direct.content["error"]


async def test_two_step_confirmation_and_audit(http: Http, ctx: AddonContext) -> None:
    token = ctx.credentials.token
    async with held(bearer_client(http.mcp_url, token)) as client:
        request = await ok(client, "set_current_limit", charger="t-002", limit=12)
        assert request["confirmation_required"] == "Limit t-002 connector 1 to 12 A"
        code = request["confirm"]
        assert len(code) == 6 and code.isdigit()
        done = await ok(
            client, "set_current_limit", charger="t-002", limit=12, confirm=code
        )
        assert done["done"] == "t-002/1 limited to 12 A"
        assert done["cap_a"] == 12.0  # the site coordinates t-002: it is a cap
        await eventually(
            lambda: float(ctx.ha.states["number.t_002_maximum_current"].state) <= 12
        )
        replay, is_error = await call(
            client, "set_current_limit", charger="t-002", limit=12, confirm=code
        )
        assert is_error
    lines = [line for line in ctx.audit.tail(10) if line["tool"] == "set_current_limit"]
    outcomes = [line["outcome"] for line in lines[-3:]]
    assert outcomes == ["confirmation_required", "ok", "error"]
    for line in lines[-3:]:
        assert line["caller"] == "mcp:token@127.0.0.1"
        assert line["duration_ms"] >= 0
        assert line["arguments"]["charger"] == "t-002"
    assert lines[-2]["arguments"]["confirm"] == "**REDACTED**"
    text = ctx.audit.path.read_text()
    assert code not in text.split('"result"')[0] or code in lines[-3]["result"]


async def test_secrets_never_in_results_audit_or_logs(
    http: Http, ctx: AddonContext, stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    token = ctx.credentials.token
    secrets = {
        "add-on token": token,
        "secret path": ctx.credentials.secret_path,
        "HA token": stack.token,
        "API key": ctx.settings.options.anthropic_api_key,
        "camera token": "cam-secret-8b1f2e9d",
    }
    await stack.ha.call_service(
        "input_text",
        "set_value",
        {"entity_id": "input_text.note", "value": f"t={token}"},
    )
    await eventually(lambda: ctx.ha.states["input_text.note"].state.startswith("t="))
    async with held(bearer_client(http.mcp_url, token)) as client:
        states = await ok(
            client,
            "get_states",
            entity_ids=["input_text.note", "sensor.doorbell_camera"],
            fields=["*"],
        )
        note, doorbell = states["states"]
        assert note["state"] == "t=**REDACTED**"
        assert doorbell["attributes"]["access_token"] == "**REDACTED**"
        assert doorbell["attributes"]["model"] == "Doorbell 2"
        assert "entity_picture" not in doorbell["attributes"]  # hidden unless asked
        picture = await ok(
            client,
            "get_states",
            entity_ids=["sensor.doorbell_camera"],
            fields=["entity_picture"],
        )
        url = picture["states"][0]["attributes"]["entity_picture"]
        assert url == "/api/camera_proxy/camera.door?token=**REDACTED**"
        entity = await client.read_resource("ha://entity/sensor.doorbell_camera")
        resource_text = entity.contents[0].text  # type: ignore[union-attr]
        search = await ok(client, "search_entities", query="note")
        answers = json.dumps([states, search, picture]) + resource_text
    ctx.install_log_redaction()
    with caplog.at_level(logging.INFO):
        logging.getLogger("energy_coordinator_mcp.test").warning(
            "leaking %s and %s", token, stack.token
        )
    audit = ctx.audit.path.read_text()
    for label, value in secrets.items():
        assert value not in answers, label
        assert value not in audit, label
        assert value not in caplog.text, label
    assert "leaking **REDACTED** and **REDACTED**" in caplog.text


async def test_status_page_and_rotation(ro_http: Http) -> None:
    ctx = ro_http.ctx
    old = ctx.credentials.token
    async with httpx2.AsyncClient(timeout=10) as raw:
        page = await raw.get(f"{ro_http.ingress}/")
        assert page.status_code == 200
        assert old in page.text and ctx.credentials.secret_path in page.text
        assert "read-only" in page.text
        rotated = await raw.post(f"{ro_http.ingress}/rotate")
        assert rotated.status_code == 303
        new = ctx.credentials.token
        assert new != old
        stale = await raw.post(
            ro_http.mcp_url,
            json=INITIALIZE,
            headers=HEADERS | {"Authorization": f"Bearer {old}"},
        )
        assert stale.status_code == 401
        fresh = await raw.post(
            ro_http.mcp_url,
            json=INITIALIZE,
            headers=HEADERS | {"Authorization": f"Bearer {new}"},
        )
        assert fresh.status_code == 200
        status = (await raw.get(f"{ro_http.ingress}/status")).json()
        assert status["read_only"] is True and status["ha_connected"] is True


async def test_cross_origin_posts_change_nothing(ro_http: Http) -> None:
    """A form on another site, sent through the owner's browser, is refused."""
    ctx = ro_http.ctx
    before = (ctx.credentials.token, ctx.credentials.secret_path)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    own_host = ro_http.ingress.removeprefix("http://")
    async with httpx2.AsyncClient(timeout=10) as raw:
        for headers in (
            {"Origin": "http://evil.example"},
            {"Origin": "null"},
            {"Origin": f"http://{own_host}.evil.example"},
            {"Sec-Fetch-Site": "cross-site"},
            # Through HA's ingress proxy, the browser's host is X-Forwarded-Host.
            {"Origin": f"http://{own_host}", "X-Forwarded-Host": "ha.example"},
        ):
            refused = await raw.post(
                f"{ro_http.ingress}/rotate", headers=form | headers, content="x=1"
            )
            assert refused.status_code == 403, headers
            assert "Cross-origin" in refused.text
        assert (ctx.credentials.token, ctx.credentials.secret_path) == before
        asked = await raw.post(
            f"{ro_http.ingress}/api/ask",
            headers={"Origin": "http://evil.example"},
            json={"confirm": "123456"},
        )
        assert asked.status_code == 403
        # The page itself (GET) still opens from anywhere the proxy serves it.
        page = await raw.get(
            f"{ro_http.ingress}/", headers={"Origin": "http://evil.example"}
        )
        assert page.status_code == 200
        # The owner's own panel: the Origin is the host HA's proxy forwarded.
        same = await raw.post(
            f"{ro_http.ingress}/rotate",
            headers=form
            | {"Origin": "https://ha.example", "X-Forwarded-Host": "ha.example"},
            content="x=1",
        )
        assert same.status_code == 303
        assert ctx.credentials.token != before[0]
        direct = await raw.post(
            f"{ro_http.ingress}/rotate",
            headers=form | {"Origin": f"http://{own_host}"},
            content="x=1",
        )
        assert direct.status_code == 303
