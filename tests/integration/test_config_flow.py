"""Config flow: user step, errors, options, reconfigure, charger discovery."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from homeassistant.config_entries import (
    SOURCE_INTEGRATION_DISCOVERY,
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntryState,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from ocpp.v16.enums import RegistrationStatus
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from custom_components.energy_coordinator.const import DOMAIN
from tests.fake_charge_point import fake_charge_point, wait_until

from .conftest import SetupSite, free_port, ocpp_url

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def _start_flow(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    return dict(result)


async def _finish_site_steps(hass: HomeAssistant, result: Any) -> dict[str, Any]:
    """Submit the sources, limits and actuators steps with their defaults."""
    for step in ("sources", "limits", "actuators"):
        assert result["type"] is FlowResultType.FORM, result
        assert result["step_id"] == step
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    return dict(result)


async def _options_step(
    hass: HomeAssistant, entry_id: str, step: str
) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry_id)
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == step
    return dict(result)


async def _reconfigure(hass: HomeAssistant, entry_id: str) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry_id}
    )
    return dict(result)


def _self_signed(tmp_path: Path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_path = tmp_path / "cert.pem"
    key_path = tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


async def test_user_step_creates_a_site(hass: HomeAssistant) -> None:
    """The user step with defaults creates and loads the site."""
    result = await _start_flow(hass)
    port = free_port()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"site_name": "Casa", "ocpp_port": port, "charger_policy": "ask"},
    )
    result = await _finish_site_steps(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Casa"
    entry = result["result"]
    assert entry.data["ocpp_port"] == port
    assert entry.data["charger_policy"] == "ask"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.system.port == port
    await hass.config_entries.async_unload(entry.entry_id)


async def test_port_in_use_is_a_form_error(hass: HomeAssistant) -> None:
    """A taken port is shown on the form and nothing is created."""
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = await _start_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {"site_name": "Home", "ocpp_port": port, "charger_policy": "ask"},
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"ocpp_port": "port_in_use"}
    assert not hass.config_entries.async_entries(DOMAIN)
    # The form keeps working once the port is fixed.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"site_name": "Home", "ocpp_port": free_port(), "charger_policy": "ask"},
    )
    result = await _finish_site_steps(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_port_of_another_site_is_refused(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Two sites cannot share a port."""
    entry = await setup_site()
    result = await _start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "site_name": "Other",
            "ocpp_port": entry.data["ocpp_port"],
            "charger_policy": "ask",
        },
    )
    assert result["errors"] == {"ocpp_port": "port_in_use"}


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"ssl_certfile": "/nonexistent/cert.pem"}, {"base": "certificate_pair"}),
        (
            {"ssl_certfile": "/nonexistent/c.pem", "ssl_keyfile": "/nonexistent/k"},
            {"ssl_certfile": "file_not_found"},
        ),
    ],
)
async def test_certificate_errors(
    hass: HomeAssistant, fields: dict[str, str], errors: dict[str, str]
) -> None:
    """Half a certificate pair or missing files are form errors."""
    result = await _start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"site_name": "Home", "ocpp_port": free_port(), **fields},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors


async def test_missing_key_file(hass: HomeAssistant, tmp_path: Path) -> None:
    """A certificate whose key file is missing marks the key field."""
    certfile, _ = _self_signed(tmp_path)
    result = await _start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "site_name": "Home",
            "ocpp_port": free_port(),
            "ssl_certfile": certfile,
            "ssl_keyfile": str(tmp_path / "missing.pem"),
        },
    )
    assert result["errors"] == {"ssl_keyfile": "file_not_found"}


async def test_discovery_of_a_site_that_is_gone(hass: HomeAssistant) -> None:
    """A charger's discovery for a site that is not loaded ends, adding nothing."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"charger_id": "CP9", "entry_id": "no-such-entry", "vendor": "Acme"},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "site_not_loaded"
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_unloadable_certificate(hass: HomeAssistant, tmp_path: Path) -> None:
    """Files that are not a certificate and key are refused."""
    bad_cert = tmp_path / "c.pem"
    bad_key = tmp_path / "k.pem"
    bad_cert.write_text("not a certificate")
    bad_key.write_text("not a key")
    result = await _start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "site_name": "Home",
            "ocpp_port": free_port(),
            "ssl_certfile": str(bad_cert),
            "ssl_keyfile": str(bad_key),
        },
    )
    assert result["errors"] == {"base": "invalid_certificate"}


async def test_tls_site_serves_wss(hass: HomeAssistant, tmp_path: Path) -> None:
    """With a certificate chargers connect over wss:// (security profile 2)."""
    certfile, keyfile = _self_signed(tmp_path)
    result = await _start_flow(hass)
    port = free_port()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "site_name": "Home",
            "ocpp_port": port,
            "ssl_certfile": certfile,
            "ssl_keyfile": keyfile,
            "charger_policy": "accept",
        },
    )
    result = await _finish_site_steps(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    client_ctx = ssl.create_default_context(cafile=certfile)
    client_ctx.check_hostname = False
    async with connect(
        f"wss://127.0.0.1:{port}/TLS1", subprotocols=["ocpp1.6"], ssl=client_ctx
    ) as ws:
        assert ws.subprotocol == "ocpp1.6"
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_options_flow_changes_settings(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Options change the running central system (the entry reloads)."""
    entry = await setup_site()
    result = await _options_step(hass, entry.entry_id, "central_system")
    new_port = free_port()
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "ocpp_port": new_port,
            "charger_policy": "reject",
            "charger_password": "s3cret",
            "tag_policy": "reject",
            "remote_id_tag": "HA-REMOTE",
            "heartbeat_interval": 30,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    config = entry.runtime_data.system.config
    assert config.port == new_port
    assert config.charger_policy == "reject"
    assert config.tag_policy == "reject"
    assert config.remote_id_tag == "HA-REMOTE"
    assert config.heartbeat_interval == 30
    assert config.password == "s3cret"


async def test_options_flow_port_in_use(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """A taken port in the options is a form error and changes nothing."""
    entry = await setup_site()
    old_port = entry.runtime_data.system.port
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        result = await _options_step(hass, entry.entry_id, "central_system")
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {
                "ocpp_port": busy.getsockname()[1],
                "charger_policy": "accept",
                "tag_policy": "accept",
                "remote_id_tag": "x",
                "heartbeat_interval": 60,
            },
        )
    assert result["errors"] == {"ocpp_port": "port_in_use"}
    assert entry.runtime_data.system.port == old_port


async def test_reconfigure(hass: HomeAssistant, setup_site: SetupSite) -> None:
    """Reconfigure changes name and port; keeping the own port is allowed."""
    entry = await setup_site()
    own_port = entry.runtime_data.system.port
    result = await _reconfigure(hass, entry.entry_id)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"site_name": "Cabin", "ocpp_port": own_port, "charger_policy": "accept"},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.title == "Cabin"
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.system.port == own_port

    new_port = free_port()
    result = await _reconfigure(hass, entry.entry_id)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"site_name": "Cabin", "ocpp_port": new_port, "charger_policy": "ask"},
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.runtime_data.system.port == new_port
    assert entry.runtime_data.system.config.charger_policy == "ask"


async def test_unknown_charger_is_discovered_and_added(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Under `ask` a new charger is Pending until the owner adds it."""
    entry = await setup_site(charger_policy="ask")
    url = ocpp_url(entry, "NEW1").rsplit("/", 1)[0]
    async with fake_charge_point(url, "NEW1") as charger:
        assert (await charger.boot()).status == RegistrationStatus.pending
        await hass.async_block_till_done()
        flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        assert len(flows) == 1
        flow = flows[0]
        assert flow["step_id"] == "confirm_charger"
        assert flow["context"]["title_placeholders"] == {"charger_id": "NEW1"}
        # A second boot does not ask twice.
        assert (await charger.boot()).status == RegistrationStatus.pending
        await hass.async_block_till_done()
        assert len(hass.config_entries.flow.async_progress_by_handler(DOMAIN)) == 1

        result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "charger_added"
        # We ask the charger to boot again, and now it is accepted.
        await wait_until(lambda: charger.frames("TriggerMessage"))
        assert charger.last("TriggerMessage") == {
            "requestedMessage": "BootNotification"
        }
        assert (await charger.boot()).status == RegistrationStatus.accepted
        assert entry.runtime_data.system.is_approved("NEW1")
    # Approval is durable: after a reload the charger is accepted at once.
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.runtime_data.system.is_approved("NEW1")


async def test_rejected_and_wrong_password_refused_at_handshake(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Reject policy answers 404, a wrong password 401; nothing else changes."""
    entry = await setup_site(charger_policy="reject", charger_password="pw")
    with pytest.raises(InvalidStatus) as err:
        async with connect(ocpp_url(entry, "X"), subprotocols=["ocpp1.6"]):
            pass
    assert err.value.response.status_code == 401
    url = ocpp_url(entry, "X").replace("ws://", "ws://X:pw@")
    with pytest.raises(InvalidStatus) as err:
        async with connect(url, subprotocols=["ocpp1.6"]):
            pass
    assert err.value.response.status_code == 404
    assert "X" not in entry.runtime_data.system.chargers


def _bindable(host: str, port: int) -> bool:
    """Whether nothing listens on host:port (or on every interface at that port)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


async def test_listen_address_defaults_to_every_interface(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Without a listen address the chargers of the whole network can connect."""
    entry = await setup_site()
    assert entry.data["ocpp_host"] == "0.0.0.0"
    system = entry.runtime_data.system
    assert system.config.host == "0.0.0.0"
    # Every address of the host has the port taken, not only 127.0.0.1.
    assert not _bindable("127.0.0.2", system.port)


async def test_listen_address_limits_the_server(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """A site listening on 127.0.0.1 serves chargers there and nowhere else."""
    entry = await setup_site(ocpp_host=" 127.0.0.1 ")
    assert entry.data["ocpp_host"] == "127.0.0.1"
    system = entry.runtime_data.system
    assert system.config.host == "127.0.0.1"
    assert _bindable("127.0.0.2", system.port)
    async with connect(ocpp_url(entry, "CP1"), subprotocols=["ocpp1.6"]) as ws:
        assert ws.subprotocol == "ocpp1.6"


@pytest.mark.parametrize(
    ("address", "error"),
    [
        ("my-charger-lan", "invalid_address"),
        ("300.1.1.1", "invalid_address"),
        # TEST-NET-1 (RFC 5737): never an address of this host.
        ("192.0.2.1", "address_not_available"),
    ],
)
async def test_listen_address_errors(
    hass: HomeAssistant, address: str, error: str
) -> None:
    """An address that is not an IP of this host is a form error; nothing is made."""
    result = await _start_flow(hass)
    fields = {"site_name": "Home", "ocpp_port": free_port(), "charger_policy": "ask"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**fields, "ocpp_host": address}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"ocpp_host": error}
    assert not hass.config_entries.async_entries(DOMAIN)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**fields, "ocpp_host": "127.0.0.1"}
    )
    assert result["step_id"] == "sources"


async def test_listen_address_in_options_and_reconfigure(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """The address changes on the site's own port; a bad one changes nothing."""
    entry = await setup_site()
    port = entry.runtime_data.system.port
    base = {
        "ocpp_port": port,
        "charger_policy": "accept",
        "tag_policy": "accept",
        "remote_id_tag": "x",
        "heartbeat_interval": 60,
    }
    result = await _options_step(hass, entry.entry_id, "central_system")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**base, "ocpp_host": "192.0.2.1"}
    )
    assert result["errors"] == {"ocpp_host": "address_not_available"}
    assert entry.runtime_data.system.config.host == "0.0.0.0"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**base, "ocpp_host": "127.0.0.1"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.options["ocpp_host"] == "127.0.0.1"
    assert entry.runtime_data.system.config.host == "127.0.0.1"
    assert entry.runtime_data.system.port == port
    assert _bindable("127.0.0.2", port)

    result = await _reconfigure(hass, entry.entry_id)
    schema = result["data_schema"].schema
    assert next(k for k in schema if k == "ocpp_host").default() == "127.0.0.1"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "site_name": "Home",
            "ocpp_port": port,
            "ocpp_host": "0.0.0.0",
            "charger_policy": "accept",
        },
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.runtime_data.system.config.host == "0.0.0.0"
    assert not _bindable("127.0.0.2", port)
