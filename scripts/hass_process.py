"""A real, headless Home Assistant (`hass`) process with the integration installed.

Owns a throwaway config directory (minimal `configuration.yaml`, the integration
linked into `custom_components/`), the `hass -c DIR --skip-pip` subprocess, onboarding
over plain HTTP, the long-lived access token, adding the integration through the
config-flow REST API, and a clean stop. Small REST and WebSocket helpers talk to the
running instance with that token. Used by `scripts/demo.py`, `tests/e2e/` and `bench/`.

Everything is asyncio + aiohttp; the process is a plain `subprocess.Popen` (no child
watcher threads), so it also runs inside Home Assistant's pytest plugin.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
INTEGRATION_DIR = ROOT / "custom_components" / "energy_coordinator"
DOMAIN = "energy_coordinator"
HOST = "127.0.0.1"
#: Integrations HA's onboarding sets up by itself; removed again (they need packages
#: that are not installed, or the internet).
ONBOARDING_DOMAINS = ("google_translate", "met", "radio_browser", "shopping_list")

MARKER = "# Written by scripts/hass_process.py"
CONFIGURATION_YAML = (
    MARKER
    + """; the directory is recreated on every start.
homeassistant:
  name: {name}
  language: {language}
  latitude: 52.3731
  longitude: 4.8922
  elevation: 0
  unit_system: metric
  time_zone: {time_zone}
  currency: EUR
  country: NL

http:
  server_host: {host}
  server_port: {port}

api:

logger:
  default: warning
  logs:
    custom_components.energy_coordinator: {log_level}
{extra_logs}{extra}"""
)

#: Extra configuration for a Home Assistant a person opens in a browser (the
#: automation editor saves into automations.yaml, which `write_config` creates).
UI_CONFIG = """
frontend:
config:
recorder:
  purge_keep_days: 3
history:
logbook:
energy:
automation: !include automations.yaml
"""


class HassError(RuntimeError):
    """The `hass` process did not start, answer or do what was asked."""


def _form_defaults(form: Mapping[str, Any]) -> dict[str, Any]:
    """The defaults of a data-entry form as the REST API describes it."""
    return {
        field["name"]: field["default"]
        for field in form.get("data_schema") or []
        if "default" in field
    }


def free_port(host: str = HOST) -> int:
    """A TCP port that is free right now on `host`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def default_python() -> str:
    """The interpreter that runs `hass`: the project's .venv, else this one."""
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


class HassProcess:
    """One `hass` process, from a fresh config directory to a clean stop.

    Use as `async with HassProcess(dir) as ha:` (start + onboard, then stop), or call
    `start()`, `onboard()` and `stop()` yourself. After onboarding, `token` is a
    long-lived access token and `get`/`post`/`ws_command` use it.
    """

    def __init__(
        self,
        config_dir: Path | str,
        *,
        port: int | None = None,
        host: str = HOST,
        python: str | None = None,
        username: str = "demo",
        password: str | None = None,
        name: str = "Energy Coordinator",
        time_zone: str = "Europe/Amsterdam",
        language: str = "en",
        ui: bool = False,
        extra_config: str = "",
        log_level: str = "info",
        log_levels: Mapping[str, str] | None = None,
        copy_integration: bool = False,
        custom_integrations: Mapping[str, Path] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.config_dir = Path(config_dir).resolve()
        self.host = host
        self.port = port or free_port(host)
        self.python = python or default_python()
        self.username = username
        self.password = password or secrets.token_urlsafe(12)
        self.name = name
        self.time_zone = time_zone
        #: The server's language (HA names entities in it) and the owner's.
        self.language = language
        self.ui = ui
        self.extra_config = extra_config
        self.log_level = log_level
        #: More loggers and their levels, e.g. one module at "debug".
        self.log_levels = dict(log_levels or {})
        self.copy_integration = copy_integration
        #: Further custom integrations (domain -> source folder), linked in too.
        self.custom_integrations = dict(custom_integrations or {})
        self.env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.token: str | None = None
        self._access_token: str | None = None
        self._session: aiohttp.ClientSession | None = None
        self._output: Any = None

    # Addresses ----------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the HTTP API, e.g. http://127.0.0.1:8123."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """URL of the WebSocket API."""
        return f"ws://{self.host}:{self.port}/api/websocket"

    @property
    def client_id(self) -> str:
        """OAuth client id used for onboarding (HA wants a URL)."""
        return f"{self.url}/"

    @property
    def pid(self) -> int:
        """Process id of `hass`."""
        if self.process is None:
            raise HassError("hass is not running")
        return self.process.pid

    @property
    def log_path(self) -> Path:
        """HA's own log file."""
        return self.config_dir / "home-assistant.log"

    @property
    def output_path(self) -> Path:
        """stdout/stderr of the process (tracebacks before logging is set up)."""
        return self.config_dir / "hass.out"

    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    # Config directory ---------------------------------------------------------

    def write_config(self) -> None:
        """Recreate the config directory: configuration.yaml + the integration(s).

        Refuses to delete a directory this module did not write.
        """
        if self.config_dir.exists() and any(self.config_dir.iterdir()):
            config = self.config_dir / "configuration.yaml"
            if not (config.exists() and config.read_text().startswith(MARKER)):
                raise HassError(
                    f"{self.config_dir} is not a config dir written by "
                    "hass_process.py; refusing to delete it"
                )
            shutil.rmtree(self.config_dir)
        custom = self.config_dir / "custom_components"
        custom.mkdir(parents=True)
        target = custom / INTEGRATION_DIR.name
        if self.copy_integration:
            shutil.copytree(
                INTEGRATION_DIR,
                target,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        else:
            target.symlink_to(INTEGRATION_DIR, target_is_directory=True)
        for domain, source in self.custom_integrations.items():
            link = custom / domain
            link.symlink_to(Path(source).resolve(), target_is_directory=True)
        extra = (UI_CONFIG if self.ui else "") + self.extra_config
        (self.config_dir / "configuration.yaml").write_text(
            CONFIGURATION_YAML.format(
                name=self.name,
                language=self.language,
                time_zone=self.time_zone,
                host=self.host,
                port=self.port,
                log_level=self.log_level,
                extra_logs="".join(
                    f"    {name}: {level}\n" for name, level in self.log_levels.items()
                ),
                extra=extra,
            ),
            encoding="utf-8",
        )
        if self.ui:
            (self.config_dir / "automations.yaml").write_text("[]\n", encoding="utf-8")

    # Lifecycle ----------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        try:
            await self.onboard()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self, within: float = 90.0, *, fresh: bool = True) -> None:
        """Write a fresh config dir, start `hass` and wait until it runs.

        `fresh=False` starts again on the existing config dir (a restart: users,
        tokens, config entries and the integration's stores are kept).
        """
        if fresh or not (self.config_dir / "configuration.yaml").exists():
            self.write_config()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        env.pop("PYTHONPATH", None)
        self._output = self.output_path.open("wb")
        self.process = subprocess.Popen(  # noqa: ASYNC220 - no child watcher needed
            [
                self.python,
                "-m",
                "homeassistant",
                "-c",
                str(self.config_dir),
                "--skip-pip",
                "--log-no-color",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.config_dir,
            start_new_session=True,  # Ctrl-C in a terminal is ours to handle
        )
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        try:
            await self._wait_http(within)
        except BaseException:
            await self.stop()
            raise

    async def _wait_http(self, within: float) -> None:
        deadline = time.monotonic() + within
        assert self._session is not None
        while time.monotonic() < deadline:
            self._check_alive()
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                # /api/onboarding exists only until onboarding is done; after a
                # restart /api/ answers 401 to a request without a token.
                async with self._session.get(
                    f"{self.url}/api/onboarding",
                    timeout=aiohttp.ClientTimeout(total=2),
                ) as resp:
                    if resp.status in (200, 401, 404):
                        return
            await asyncio.sleep(0.25)
        raise HassError(f"hass did not answer on {self.url} in {within:.0f} s")

    def _check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise HassError(
                f"hass exited with code {self.process.returncode}:\n{self.log_tail()}"
            )

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of HA's log (or its console output)."""
        for path in (self.log_path, self.output_path):
            if path.exists() and path.stat().st_size:
                text = path.read_text(encoding="utf-8", errors="replace")
                return "\n".join(text.splitlines()[-lines:])
        return "(no output)"

    async def stop(self, within: float = 30.0) -> int | None:
        """Stop `hass` (the homeassistant.stop action, then signals); exit code."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            if self.token is not None:
                with contextlib.suppress(aiohttp.ClientError, TimeoutError, HassError):
                    await self.post(
                        "/api/services/homeassistant/stop",
                        request_timeout=5,
                        check=False,
                    )
            else:
                proc.send_signal(signal.SIGTERM)
            if not await self._wait_exit(within):
                proc.send_signal(signal.SIGTERM)
                if not await self._wait_exit(10):
                    proc.kill()
                    await self._wait_exit(5)
        return await self._closed()

    async def kill(self) -> int | None:
        """SIGKILL `hass`, as a power cut would: nothing is flushed; exit code."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.kill()
            await self._wait_exit(10)
        return await self._closed()

    async def _closed(self) -> int | None:
        proc = self.process
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._output is not None:
            self._output.close()
            self._output = None
        return proc.returncode if proc is not None else None

    async def _wait_exit(self, within: float) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + within
        while self.process.poll() is None:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.1)
        return True

    # Onboarding ---------------------------------------------------------------

    async def onboard(self, remove_onboarding_entries: bool = True) -> str:
        """Create the owner, finish onboarding, get a long-lived token; returns it."""
        assert self._session is not None
        result = await self._raw_post(
            "/api/onboarding/users",
            json={
                "client_id": self.client_id,
                "name": self.username.capitalize(),
                "username": self.username,
                "password": self.password,
                "language": self.language,
            },
        )
        self._access_token = await self._exchange_code(result["auth_code"])
        await self._raw_post("/api/onboarding/core_config", json={}, auth=True)
        await self._raw_post("/api/onboarding/analytics", json={}, auth=True)
        await self._raw_post(
            "/api/onboarding/integration",
            json={"client_id": self.client_id, "redirect_uri": self.client_id},
            auth=True,
        )
        result = await self.ws_command(
            "auth/long_lived_access_token",
            token=self._access_token,
            client_name="energy-coordinator scripts",
            lifespan=3650,
        )
        self.token = str(result)
        await self.wait_running()
        if remove_onboarding_entries:
            await self._remove_onboarding_entries()
        return self.token

    async def _exchange_code(self, code: str) -> str:
        assert self._session is not None
        async with self._session.post(
            f"{self.url}/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": self.client_id,
            },
        ) as resp:
            body = await resp.json()
            if resp.status != 200:
                raise HassError(f"/auth/token: {resp.status} {body}")
            return str(body["access_token"])

    async def _raw_post(
        self, path: str, *, json: Any, auth: bool = False
    ) -> dict[str, Any]:
        assert self._session is not None
        headers = {"Authorization": f"Bearer {self._access_token}"} if auth else {}
        async with self._session.post(
            f"{self.url}{path}", json=json, headers=headers
        ) as resp:
            body = await resp.json(content_type=None)
            if resp.status != 200:
                raise HassError(f"POST {path}: {resp.status} {body}")
            return body if isinstance(body, dict) else {"result": body}

    async def wait_running(self, within: float = 60.0) -> None:
        """Wait until HA's state is RUNNING (startup finished)."""
        deadline = time.monotonic() + within
        while True:
            self._check_alive()
            config = await self.get("/api/config")
            if config.get("state") == "RUNNING":
                return
            if time.monotonic() >= deadline:
                raise HassError(f"hass still {config.get('state')} after {within} s")
            await asyncio.sleep(0.25)

    async def _remove_onboarding_entries(self) -> None:
        # The onboarding flows run as background tasks; give them a moment.
        for _ in range(20):
            entries = await self.config_entries()
            found = [e for e in entries if e["domain"] in ONBOARDING_DOMAINS]
            for entry in found:
                await self.delete(
                    f"/api/config/config_entries/entry/{entry['entry_id']}"
                )
            if found:
                return
            await asyncio.sleep(0.1)

    # The integration ----------------------------------------------------------

    async def add_integration(
        self,
        *,
        site_name: str = "Home",
        ocpp_port: int = 9000,
        charger_policy: str = "accept",
        steps: Mapping[str, Mapping[str, Any]] | None = None,
        wait_loaded: float = 30.0,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add a site through the config flow; returns its config entry (loaded).

        `site_name`, `ocpp_port`, `charger_policy` and `fields` fill the `user`
        step. Any later form gets `steps[step_id]` on top of the form's defaults.
        """
        result = await self.post(
            "/api/config/config_entries/flow",
            json={"handler": DOMAIN, "show_advanced_options": False},
        )
        answers: dict[str, Mapping[str, Any]] = {
            "user": {
                "site_name": site_name,
                "ocpp_port": ocpp_port,
                "charger_policy": charger_policy,
                **fields,
            },
            **(steps or {}),
        }
        for _ in range(10):
            if result.get("type") != "form":
                break
            step = result["step_id"]
            if result.get("errors"):
                raise HassError(f"config flow step {step}: {result['errors']}")
            data = _form_defaults(result) | dict(answers.get(step, {}))
            result = await self.post(
                f"/api/config/config_entries/flow/{result['flow_id']}", json=data
            )
        if result.get("type") != "create_entry":
            raise HassError(f"config flow did not create an entry: {result}")
        entry_id = result["result"]["entry_id"]
        deadline = time.monotonic() + wait_loaded
        while True:
            entry = await self.config_entry(entry_id)
            if entry is not None and entry.get("state") == "loaded":
                return entry
            if time.monotonic() >= deadline:
                raise HassError(
                    f"entry {entry_id} not loaded: {entry}\n{self.log_tail()}"
                )
            await asyncio.sleep(0.2)

    async def options_step(
        self, entry_id: str, step: str, answers: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Open an entry's options, pick `step` from the menu and answer its forms.

        Each form gets its defaults with `answers` on top (a second form, such as
        *planning_sources*, too). Returns the flow's last result.
        """
        base = "/api/config/config_entries/options/flow"
        result = await self.post(base, json={"handler": entry_id})
        if result.get("type") != "menu":
            raise HassError(f"options did not open on a menu: {result}")
        if step not in result["menu_options"]:
            raise HassError(f"options menu has no {step!r}: {result['menu_options']}")
        flow = result["flow_id"]
        result = await self.post(f"{base}/{flow}", json={"next_step_id": step})
        for _ in range(5):
            if result.get("type") != "form":
                break
            if result.get("errors"):
                raise HassError(f"options step {result['step_id']}: {result['errors']}")
            data = _form_defaults(result) | {
                key: value
                for key, value in answers.items()
                if any(f["name"] == key for f in result.get("data_schema") or [])
            }
            result = await self.post(f"{base}/{flow}", json=data)
        if result.get("type") != "create_entry":
            raise HassError(f"options step {step} did not save: {result}")
        return dict(result)

    async def config_entries(self, domain: str | None = None) -> list[dict[str, Any]]:
        """Config entries (optionally of one domain) as the REST API lists them."""
        params = {"domain": domain} if domain else None
        result = await self.get("/api/config/config_entries/entry", params=params)
        return list(result)

    async def config_entry(self, entry_id: str) -> dict[str, Any] | None:
        """One config entry by id, or None."""
        for entry in await self.config_entries():
            if entry["entry_id"] == entry_id:
                return entry
        return None

    async def states(self, domain_prefix: str | None = None) -> list[dict[str, Any]]:
        """All entity states, optionally only those whose id starts with a prefix."""
        states = list(await self.get("/api/states"))
        if domain_prefix is None:
            return states
        return [s for s in states if s["entity_id"].startswith(domain_prefix)]

    async def call_service(
        self,
        domain: str,
        service: str,
        data: Mapping[str, Any] | None = None,
        *,
        return_response: bool = False,
    ) -> Any:
        """Call an action over REST; with return_response, its response data."""
        return await self.post(
            f"/api/services/{domain}/{service}",
            json=dict(data or {}),
            params={"return_response": ""} if return_response else None,
        )

    # REST ---------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        if self.token is None:
            raise HassError("not onboarded: no token yet")
        return {"Authorization": f"Bearer {self.token}"}

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        request_timeout: float = 30.0,
        check: bool = True,
    ) -> Any:
        """An authenticated REST call; the decoded JSON body (or text)."""
        if self._session is None:
            raise HassError("hass is not running")
        async with self._session.request(
            method,
            f"{self.url}{path}",
            json=json,
            params=params,
            headers=self._headers(),
            timeout=aiohttp.ClientTimeout(total=request_timeout),
        ) as resp:
            text = await resp.text()
            if check and resp.status >= 400:
                raise HassError(f"{method} {path}: {resp.status} {text}")
            if resp.content_type == "application/json" and text:
                return jsonlib.loads(text)
            return text

    async def get(self, path: str, **kwargs: Any) -> Any:
        """GET with the token."""
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Any:
        """POST with the token."""
        return await self.request("POST", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Any:
        """DELETE with the token."""
        return await self.request("DELETE", path, **kwargs)

    # WebSocket ----------------------------------------------------------------

    async def ws_command(
        self, command: str, *, token: str | None = None, **payload: Any
    ) -> Any:
        """Send one WebSocket API command on a new connection; its result."""
        if self._session is None:
            raise HassError("hass is not running")
        access = token or self.token
        if access is None:
            raise HassError("not onboarded: no token yet")
        async with self._session.ws_connect(self.ws_url, max_msg_size=0) as ws:
            hello = await ws.receive_json()
            if hello.get("type") != "auth_required":
                raise HassError(f"websocket: unexpected greeting {hello}")
            await ws.send_json({"type": "auth", "access_token": access})
            auth = await ws.receive_json()
            if auth.get("type") != "auth_ok":
                raise HassError(f"websocket auth failed: {auth}")
            await ws.send_json({"id": 1, "type": command, **payload})
            while True:
                msg = await ws.receive_json()
                if msg.get("id") == 1 and msg.get("type") == "result":
                    break
        if not msg.get("success"):
            raise HassError(f"websocket {command}: {msg.get('error')}")
        return msg.get("result")

    # /proc --------------------------------------------------------------------

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        # fields[0] is the state (field 3); utime and stime are fields 14 and 15.
        return (int(fields[11]) + int(fields[12])) / ticks

    def rss_bytes(self) -> int:
        """Resident set size of the process (Linux /proc)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise HassError("no VmRSS in /proc status")
