"""Who may call the add-on, what must be confirmed, and what must never be shown.

Owns:
- `Credentials`: the bearer token and the secret URL path, generated on first start
  and kept in the data directory (mode 0600), compared in constant time, rotatable;
- `ConfirmationGate`: one-time codes (valid two minutes) that a consequential tool
  call must bring back, bound to the caller, the tool and its exact arguments;
- `Redactor`: removes secrets (tokens, passwords, API keys, `token=` URL parameters,
  and the literal values of our own secrets) from results, audit lines and logs;
- `origin_allowed`: the explicit browser-Origin allow-list (DNS-rebinding defence);
- `cross_origin`: whether a state-changing request to the status page comes from
  a page of another site (CSRF defence: a form elsewhere must not rotate the token).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_LOGGER = logging.getLogger(__name__)

CREDENTIALS_FILE = "mcp_credentials.json"
#: How long a confirmation code stays valid, in seconds.
CONFIRMATION_TTL = 120.0
REDACTED = "**REDACTED**"

#: Keys whose values are secrets wherever they appear.
SECRET_KEY = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|authorization|credential|"
    r"private[_-]?key|^pin$|^auth$)",
    re.IGNORECASE,
)
#: Further keys hidden in the audit log's copy of a call's arguments (alarm and
#: lock codes, confirmation codes).
ARGUMENT_SECRET_KEY = re.compile(r"^(code|confirm)$", re.IGNORECASE)
#: Secrets inside strings: `token=…`/`access_token=…` URL parameters, bearer headers.
#: Methods that change nothing (the status page's GETs).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Default ports, left out of an Origin by browsers.
DEFAULT_PORTS = {"http": "80", "https": "443"}
SECRET_IN_TEXT = re.compile(
    r"((?:access_)?token=|api_key=|password=|Bearer\s+)[^&\s\"']+", re.IGNORECASE
)


class Credentials:
    """The add-on's inbound credentials (token and secret path) in the data dir."""

    def __init__(self, data_dir: Path) -> None:
        """Load them, creating them on first start."""
        self.path = data_dir / CREDENTIALS_FILE
        self.token = ""
        self.secret_path = ""
        self._listeners: list[Callable[[], None]] = []
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
            self.token = str(stored["token"])
            self.secret_path = str(stored["secret_path"])
        except (OSError, ValueError, KeyError, TypeError):
            self.rotate()

    def rotate(self) -> None:
        """New token and secret path; the old ones stop working at once."""
        self.token = secrets.token_urlsafe(32)
        self.secret_path = secrets.token_urlsafe(24)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"token": self.token, "secret_path": self.secret_path}),
            encoding="utf-8",
        )
        tmp.chmod(0o600)
        tmp.replace(self.path)
        _LOGGER.info("New MCP credentials generated")
        for listener in list(self._listeners):
            listener()

    def on_rotate(self, listener: Callable[[], None]) -> None:
        """Call `listener` after every rotation (e.g. to update the redactor)."""
        self._listeners.append(listener)

    def check_token(self, presented: str | None) -> bool:
        """Whether a presented bearer token is ours (constant time)."""
        if not presented:
            return False
        return hmac.compare_digest(presented.encode(), self.token.encode())

    def check_secret_path(self, presented: str) -> bool:
        """Whether a URL path segment is our secret path (constant time)."""
        return hmac.compare_digest(presented.encode(), self.secret_path.encode())

    def secrets(self) -> tuple[str, ...]:
        """Both values, for redaction."""
        return (self.token, self.secret_path)


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def origin_allowed(origin: str | None, allowed: Iterable[str]) -> bool:
    """No Origin (not a browser) passes; a browser Origin must be listed."""
    if not origin:
        return True
    origin = origin.rstrip("/").lower()
    for raw in allowed:
        entry = raw.rstrip("/").lower()
        if entry == origin:
            return True
        if entry.endswith(":*") and origin.startswith(entry[:-1]):
            port = origin[len(entry) - 1 :]
            if port.isdigit():
                return True
    return False


def _netloc(host: str, scheme: str) -> str:
    host = host.strip().lower()
    default = DEFAULT_PORTS.get(scheme)
    if default and host.endswith(f":{default}"):
        host = host[: -len(default) - 1]
    return host


def cross_origin(
    method: str, headers: Mapping[str, str], allowed: Iterable[str] = ()
) -> bool:
    """Whether a state-changing request comes from a page of another site.

    Browsers send `Origin` with every POST; it must name the host the request was
    sent to (`X-Forwarded-Host`, which HA's ingress proxy sets, else `Host`) or an
    allowed origin. `Origin: null` (a sandboxed or file page) is foreign. Without an
    Origin, `Sec-Fetch-Site` decides; a request with neither is not from a browser
    (the `ask` command line) and passes.
    """
    if method.upper() in SAFE_METHODS:
        return False
    origin = headers.get("origin")
    if origin is None:
        return headers.get("sec-fetch-site", "").lower() in ("cross-site", "same-site")
    if origin.strip().lower() == "null":
        return True
    parsed = urlsplit(origin.strip())
    host = headers.get("x-forwarded-host") or headers.get("host") or ""
    host = host.split(",")[0]
    if parsed.netloc and _netloc(parsed.netloc, parsed.scheme) == _netloc(
        host, parsed.scheme
    ):
        return False
    return not (allowed and origin_allowed(origin, allowed))


class Redactor:
    """Removes secrets from anything JSON-able or from text."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        """Start with the literal secret values to hide (more can be added)."""
        self._values: set[str] = set()
        self.add(values)

    def add(self, values: Iterable[str]) -> None:
        """Also hide these literal values (ignores short or empty ones)."""
        self._values |= {v for v in values if v and len(v) >= 8}

    def replace(self, values: Iterable[str]) -> None:
        """Hide exactly these literal values from now on."""
        self._values = set()
        self.add(values)

    def text(self, text: str) -> str:
        """A string with secret values and `token=` parameters removed."""
        for value in self._values:
            if value in text:
                text = text.replace(value, REDACTED)
        return SECRET_IN_TEXT.sub(lambda m: m.group(1) + REDACTED, text)

    def data(self, value: Any, *, arguments: bool = False) -> Any:
        """A copy of JSON-able data with secret keys and values removed.

        `arguments=True` also hides codes (a call's arguments in the audit log).
        """
        if isinstance(value, dict):
            return {
                k: (
                    REDACTED
                    if self._secret_key(k, arguments)
                    and v not in (None, "")
                    and not isinstance(v, dict | list | bool)
                    else self.data(v, arguments=arguments)
                )
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.data(v, arguments=arguments) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    @staticmethod
    def _secret_key(key: Any, arguments: bool) -> bool:
        if not isinstance(key, str):
            return False
        return bool(
            SECRET_KEY.search(key) or (arguments and ARGUMENT_SECRET_KEY.search(key))
        )


class RedactingFilter(logging.Filter):
    """A logging filter that removes secrets from every record it passes."""

    def __init__(self, redactor: Redactor) -> None:
        """Use this redactor."""
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, redacted, and drop the arguments."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = self.redactor.text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.text(record.exc_text)
        return True


def arguments_digest(arguments: dict[str, Any]) -> str:
    """A stable digest of a call's arguments (without its confirmation code)."""
    clean = {k: v for k, v in arguments.items() if k != "confirm"}
    blob = json.dumps(clean, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(slots=True)
class PendingConfirmation:
    """A consequential call waiting for its code."""

    code: str
    caller: str
    tool: str
    digest: str
    summary: str
    expires: float


class ConfirmationGate:
    """One-time codes for consequential actions.

    `request()` issues a code for (caller, tool, arguments); `redeem()` accepts it
    once, before it expires, for exactly the same caller, tool and arguments.
    """

    def __init__(
        self,
        ttl: float = CONFIRMATION_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Codes live `ttl` seconds on `clock`."""
        self.ttl = ttl
        self.clock = clock
        self._pending: dict[str, PendingConfirmation] = {}

    def _expire(self) -> None:
        now = self.clock()
        for code in [c for c, p in self._pending.items() if p.expires <= now]:
            del self._pending[code]

    def request(
        self, caller: str, tool: str, arguments: dict[str, Any], summary: str
    ) -> PendingConfirmation:
        """Issue a new code for this exact call."""
        self._expire()
        code = f"{secrets.randbelow(1_000_000):06d}"
        while code in self._pending:
            code = f"{secrets.randbelow(1_000_000):06d}"
        pending = PendingConfirmation(
            code=code,
            caller=caller,
            tool=tool,
            digest=arguments_digest(arguments),
            summary=summary,
            expires=self.clock() + self.ttl,
        )
        self._pending[code] = pending
        return pending

    def redeem(
        self, caller: str, tool: str, arguments: dict[str, Any], code: str
    ) -> str | None:
        """None when the code is good (and now spent); else why it is not."""
        self._expire()
        pending = self._pending.get(str(code).strip())
        if pending is None:
            return "unknown or expired confirmation code; ask again without confirm"
        if (
            pending.caller != caller
            or pending.tool != tool
            or not hmac.compare_digest(pending.digest, arguments_digest(arguments))
        ):
            return (
                "the confirmation code was issued for a different call; "
                "repeat the exact same arguments"
            )
        del self._pending[pending.code]
        return None

    def pending(self) -> list[PendingConfirmation]:
        """Codes still waiting (for the status page)."""
        self._expire()
        return list(self._pending.values())
