"""Credentials, the confirmation gate, origins and redaction (no Home Assistant)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from energy_coordinator_mcp.audit import AuditLog
from energy_coordinator_mcp.config import Options, OptionsError
from energy_coordinator_mcp.security import (
    REDACTED,
    ConfirmationGate,
    Credentials,
    RedactingFilter,
    Redactor,
    bearer,
    origin_allowed,
)


def test_credentials_created_once_kept_and_rotated(tmp_path: Path) -> None:
    first = Credentials(tmp_path)
    assert len(first.token) >= 40 and first.secret_path
    assert (tmp_path / "mcp_credentials.json").stat().st_mode & 0o777 == 0o600
    again = Credentials(tmp_path)
    assert (again.token, again.secret_path) == (first.token, first.secret_path)
    assert again.check_token(first.token)
    assert not again.check_token(first.token + "x")
    assert not again.check_token(None) and not again.check_token("")
    assert again.check_secret_path(first.secret_path)
    rotated: list[bool] = []
    again.on_rotate(lambda: rotated.append(True))
    again.rotate()
    assert rotated == [True]
    assert not again.check_token(first.token)
    assert Credentials(tmp_path).token == again.token


def test_bearer_header_parsing() -> None:
    assert bearer("Bearer abc") == "abc"
    assert bearer("bearer  abc ") == "abc"
    assert bearer("Basic abc") is None
    assert bearer("Bearer") is None
    assert bearer(None) is None


def test_origin_allow_list() -> None:
    allowed = ("http://localhost:6274", "https://ha.example:*")
    assert origin_allowed(None, allowed)  # not a browser
    assert origin_allowed("http://localhost:6274", allowed)
    assert origin_allowed("https://ha.example:8443", allowed)
    assert not origin_allowed("https://ha.example.evil:8443", allowed)
    assert not origin_allowed("http://localhost:6275", allowed)
    assert not origin_allowed("http://evil.example", ())


def test_gate_codes_are_one_time_bound_and_expire() -> None:
    now = [1000.0]
    gate = ConfirmationGate(ttl=120, clock=lambda: now[0])
    args = {"charger": "c1", "limit": 10}
    pending = gate.request("alice", "set_current_limit", args, "Limit c1 to 10 A")
    assert len(pending.code) == 6
    assert gate.redeem("bob", "set_current_limit", args, pending.code)  # other caller
    assert gate.redeem("alice", "stop_charging", args, pending.code)  # other tool
    assert gate.redeem(
        "alice", "set_current_limit", {**args, "limit": 32}, pending.code
    )
    assert (
        gate.redeem(
            "alice", "set_current_limit", args | {"confirm": pending.code}, pending.code
        )
        is None
    )
    assert gate.redeem("alice", "set_current_limit", args, pending.code)  # spent
    late = gate.request("alice", "set_current_limit", args, "again")
    now[0] += 121
    assert "expired" in (
        gate.redeem("alice", "set_current_limit", args, late.code) or ""
    )
    assert gate.pending() == []


def test_redactor_keys_values_and_urls() -> None:
    redactor = Redactor(["supersecretvalue123"])
    data = {
        "password": "hunter2",
        "api_key": "k",
        "access_token": "abc",
        "nested": [{"note": "the supersecretvalue123 leaked"}],
        "picture": "/api/camera_proxy/x?token=abcdef&w=1",
        "header": "Authorization: Bearer eyJhbGciOi",
        "code": "ev.pv.follow",
        "empty_token": "",
        "has_password": True,
    }
    out = redactor.data(data)
    assert out["password"] == out["api_key"] == out["access_token"] == REDACTED
    assert out["nested"][0]["note"] == f"the {REDACTED} leaked"
    assert out["picture"] == f"/api/camera_proxy/x?token={REDACTED}&w=1"
    assert out["header"] == f"Authorization: Bearer {REDACTED}"
    assert out["code"] == "ev.pv.follow"  # explanation codes stay
    assert out["empty_token"] == "" and out["has_password"] is True
    arguments = redactor.data({"code": "1234", "confirm": "987654"}, arguments=True)
    assert arguments == {"code": REDACTED, "confirm": REDACTED}


def test_log_filter_and_audit_redact(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    redactor = Redactor(["tok-0123456789"])
    logger = logging.getLogger("energy_coordinator_mcp.redaction_test")
    flt = RedactingFilter(redactor)
    logger.addFilter(flt)
    try:
        with caplog.at_level(logging.INFO):
            logger.info("connecting with %s", "tok-0123456789")
    finally:
        logger.removeFilter(flt)
    assert "tok-0123456789" not in caplog.text and REDACTED in caplog.text
    audit = AuditLog(tmp_path, redactor)
    line = audit.record(
        caller="mcp:token",
        tool="call_service",
        arguments={"domain": "lock", "data": {"code": "1234"}, "confirm": "555555"},
        outcome="ok",
        result={"echo": "tok-0123456789"},
        duration_s=0.01234,
    )
    stored = json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[-1])
    assert stored == line
    assert stored["arguments"]["data"]["code"] == REDACTED
    assert stored["arguments"]["confirm"] == REDACTED
    assert "tok-0123456789" not in json.dumps(stored)
    assert stored["duration_ms"] == 12.3


def test_options_validation(tmp_path: Path) -> None:
    options = Options.from_mapping(
        {
            "read_only": True,
            "allowed_domains": ["Light", "switch"],
            "expose": "assist",
            "daily_token_budget": 5,
            "log_level": "DEBUG",
            "unknown": 1,
        }
    )
    assert options.read_only and options.allowed_domains == ("light", "switch")
    assert options.expose == "assist" and options.log_level == "debug"
    for bad in (
        {"read_only": "yes"},
        {"expose": "some"},
        {"daily_token_budget": -1},
        {"log_level": "loud"},
        {"allowed_domains": [1]},
    ):
        with pytest.raises(OptionsError):
            Options.from_mapping(bad)
    path = tmp_path / "options.json"
    assert Options.load(path) == Options()
    path.write_text('{"anthropic_api_key": "sk-1234567890"}')
    loaded = Options.load(path)
    assert "sk-1234567890" not in repr(loaded)
    assert loaded.secrets() == ("sk-1234567890",)
