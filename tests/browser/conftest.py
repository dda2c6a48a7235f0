"""Fixtures for the browser tests: the demo's Home Assistant and a logged-in Chromium.

- `chromium` (session): the system Chromium (scripts/ensure_chromium installs it with
  apt-get when missing); the tests are skipped, with the reason printed, only where it
  cannot be installed.
- `demo` (module): `scripts/demo.py` as a person runs it (a real `hass` with the
  frontend, the integration set up through its config flow with the household feed,
  one OCPP 1.6J and one 2.0.1 simulated charger running sessions, the MCP add-on), on
  free ports with its state in a temporary folder. One per module: the pages are
  read-only views of the same site.
- `site` (function): REST/WebSocket access to it with the demo's token, and the
  demo's devices once both chargers and their EVs are there.
- `browser_page` (function): a Playwright page in headless Chromium, logged in the
  way the login page does it (login flow, then the frontend's `auth_callback` with
  the one-time code), at the viewport of the test's `viewport` parameter.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_socket

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from hass_process import DOMAIN, ROOT, free_port

#: Viewports a person uses: a laptop and a phone (CSS pixels).
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
#: Where README's screenshots live; written when EC_UPDATE_SCREENSHOTS=1.
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def _report(config: pytest.Config, line: str) -> None:
    """A line in pytest's output (also without -rs)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line, yellow=True)
    else:
        print(line, file=sys.stderr)


@pytest.fixture(scope="session")
def chromium(pytestconfig: pytest.Config) -> str:
    """Path of the system Chromium, installed when missing; skips where it cannot be."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "ensure_chromium")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        why = (result.stderr.strip().splitlines() or ["(no reason given)"])[-1]
        reason = (
            "browser tests skipped: Chromium is missing and cannot be installed "
            f"here: {why}"
        )
        _report(pytestconfig, reason)
        pytest.skip(reason)
    return result.stdout.strip().splitlines()[-1]


@dataclass
class DemoProcess:
    """The running demo: its demo.json and what the tests found out about it."""

    info: dict[str, Any]
    proc: subprocess.Popen[bytes]
    log: Path
    #: Chromium's profile (HTTP cache), shared by the module's tests.
    profile: Path
    #: Filled by the first `site` fixture: device ids and the dashboard's URL.
    devices: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    """`scripts/demo.py` on free ports, its state in a temporary folder."""
    demo_dir = tmp_path_factory.mktemp("demo")
    info_path = demo_dir / "demo.json"
    log = demo_dir / "demo.out"
    # Free ports need a socket; HA's pytest plugin blocks them until a test asks
    # for `socket_enabled` (a module fixture cannot), and blocks them again before
    # every test.
    pytest_socket.enable_socket()
    try:
        ha_port, ocpp_port, mcp_port = free_port(), free_port(), free_port()
    finally:
        pytest_socket.disable_socket(allow_unix_socket=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "scripts" / "demo.py"),
                "--ha-port",
                str(ha_port),
                "--ocpp-port",
                str(ocpp_port),
                "--mcp-port",
                str(mcp_port),
                "--dir",
                str(demo_dir),
                "--session-pause",
                "1",
            ],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while not info_path.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    "the demo did not start:\n"
                    + log.read_text(errors="replace")[-3000:]
                )
            time.sleep(0.5)
        info = json.loads(info_path.read_text(encoding="utf-8"))
        yield DemoProcess(
            info=info,
            proc=proc,
            log=log,
            profile=tmp_path_factory.mktemp("chromium-profile"),
        )
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


class Site:
    """REST and WebSocket access to the demo's Home Assistant with its token."""

    def __init__(self, demo: DemoProcess, session: aiohttp.ClientSession) -> None:
        self.demo = demo
        self.url: str = demo.info["ha_url"]
        self.token: str = demo.info["ha_token"]
        self.session = session
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._next_id = 1

    async def get(self, path: str) -> Any:
        async with self.session.get(
            f"{self.url}{path}", headers={"Authorization": f"Bearer {self.token}"}
        ) as resp:
            resp.raise_for_status()
            return await resp.json()

    async def ws(self, command: str, **payload: Any) -> Any:
        """One WebSocket API command on the site's connection; its result."""
        if self._ws is None:
            self._ws = await self.session.ws_connect(
                f"{self.url}/api/websocket", max_msg_size=0
            )
            await self._ws.receive_json()
            await self._ws.send_json({"type": "auth", "access_token": self.token})
            auth = await self._ws.receive_json()
            assert auth["type"] == "auth_ok", auth
        msg_id, self._next_id = self._next_id, self._next_id + 1
        await self._ws.send_json({"id": msg_id, "type": command, **payload})
        while True:
            msg = await self._ws.receive_json()
            if msg.get("id") == msg_id and msg.get("type") == "result":
                break
        assert msg["success"], f"{command}: {msg.get('error')}"
        return msg["result"]

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def states(self) -> dict[str, dict[str, Any]]:
        return {s["entity_id"]: s for s in await self.get("/api/states")}

    async def login_url(self, path: str, query: str = "") -> str:
        """`path` in the frontend, logged in (the login page's own two requests).

        The login flow gives a one-time code; the frontend exchanges it when it
        opens with `auth_callback=1` and keeps the tokens (`storeToken=true`).
        """
        client_id = f"{self.url}/"
        async with self.session.post(
            f"{self.url}/auth/login_flow",
            json={
                "client_id": client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": f"{client_id}?auth_callback=1",
            },
        ) as resp:
            flow = await resp.json()
        async with self.session.post(
            f"{self.url}/auth/login_flow/{flow['flow_id']}",
            json={
                "client_id": client_id,
                "username": self.demo.info["username"],
                "password": self.demo.info["password"],
            },
        ) as resp:
            done = await resp.json()
        assert done["type"] == "create_entry", done
        state = base64.b64encode(
            json.dumps({"hassUrl": self.url, "clientId": client_id}).encode()
        ).decode()
        return (
            f"{self.url}{path}?{query}{'&' if query else ''}"
            f"auth_callback=1&code={done['result']}"
            f"&state={state}&storeToken=true"
        )


def _device_kind(device: dict[str, Any], entry_id: str) -> str | None:
    """charger, site or ev (the loadpoint) for the integration's devices."""
    for domain, identifier in device["identifiers"]:
        if domain != DOMAIN:
            continue
        if identifier == f"{entry_id}_site":
            return "site"
        if identifier.startswith(f"{entry_id}_loadpoint_"):
            return "ev"
        if identifier.startswith(f"{entry_id}_charger_") and "/" not in identifier:
            return "charger"
    return None


async def _wait_for_devices(site: Site) -> dict[str, Any]:
    """The site's devices once both chargers and both EVs are there and plugged in."""
    entry_id = site.demo.info["entry_id"]
    deadline = time.monotonic() + 90
    while True:
        devices = await site.ws("config/device_registry/list")
        found: dict[str, list[dict[str, Any]]] = {"charger": [], "site": [], "ev": []}
        for device in devices:
            kind = _device_kind(device, entry_id)
            if kind is not None:
                found[kind].append(device)
        states = await site.states()
        plugged = [
            e
            for e, s in states.items()
            if e.startswith("binary_sensor.")
            and e.endswith("_plugged_in")
            and s["state"] == "on"
        ]
        if len(found["charger"]) == 2 and len(found["ev"]) == 2 and len(plugged) == 2:
            return {
                kind: sorted(items, key=lambda d: d["name"])
                for kind, items in found.items()
            }
        assert time.monotonic() < deadline, (
            f"the demo's chargers and EVs did not appear: {found}, plugged {plugged}"
        )
        await __import__("asyncio").sleep(1)


@pytest.fixture
async def site(demo: DemoProcess, socket_enabled: None) -> AsyncIterator[Site]:
    """The demo's Home Assistant over its APIs, with its devices found."""
    assert demo.proc.poll() is None, demo.log.read_text(errors="replace")[-3000:]
    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=30)
    ) as session:
        site = Site(demo, session)
        try:
            if not demo.devices:
                demo.devices = await _wait_for_devices(site)
            yield site
        finally:
            await site.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    """desktop or phone."""
    return str(request.param)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    """Keep each phase's report on the test item (the page fixture reads it)."""
    report: pytest.TestReport = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
async def browser_page(
    chromium: str,
    site: Site,
    viewport: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> AsyncIterator[Any]:
    """A page in headless Chromium (Playwright), not yet on any URL."""
    from playwright.async_api import async_playwright

    width, height = VIEWPORTS[viewport]
    async with async_playwright() as playwright:
        # One profile for the module's tests: the frontend's files come from the
        # HTTP cache after the first page, as they do for a person.
        context = await playwright.chromium.launch_persistent_context(
            str(site.demo.profile),
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
            device_scale_factor=1,
            locale="en-US",
            timezone_id="Europe/Amsterdam",
            is_mobile=viewport == "phone",
            has_touch=viewport == "phone",
        )
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            page.set_default_timeout(30_000)
            # What the browser's console would show a person who looked.
            console: list[str] = []
            page.on(
                "console",
                lambda msg: console.append(f"{msg.type}: {msg.text}")
                if msg.type in ("error", "warning")
                else None,
            )
            page.on("pageerror", lambda err: console.append(f"pageerror: {err}"))
            await page.add_init_script(
                "window.addEventListener('unhandledrejection', (e) => console.error("
                "'unhandled rejection: ' + ((e.reason && e.reason.stack) || e.reason)"
                "));"
            )
            page.on(
                "requestfailed",
                lambda req: console.append(f"request failed: {req.url} {req.failure}"),
            )
            page.console = console
            yield page
            report = getattr(request.node, "report_call", None)
            if report is not None and report.failed:
                # What the page looked like when the test failed.
                await page.screenshot(path=str(tmp_path / "failure.png"))
                (tmp_path / "console.txt").write_text("\n".join(console))
        finally:
            await context.close()


def save_screenshot(png: bytes, name: str, tmp_path: Path, *, docs: bool) -> Path:
    """Keep a screenshot in the test's folder; README's (`docs`) also in
    docs/screenshots/ with EC_UPDATE_SCREENSHOTS=1."""
    path = tmp_path / name
    path.write_bytes(png)
    if docs and os.environ.get("EC_UPDATE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (DOCS_SCREENSHOTS / name).write_bytes(png)
    return path
