"""Settings of one central system: its listening address, security and policies.

Owns `CentralSystemConfig` and the policies for chargers and id tags it names. The
server, the links and the HA layer read it; nothing writes it once built.
"""

from __future__ import annotations

import enum
import ssl
from dataclasses import dataclass


class ChargerPolicy(enum.StrEnum):
    """What happens to a charger id the owner has not added yet."""

    ASK = "ask"  # Pending at boot; the owner is asked to add it
    ACCEPT = "accept"  # added automatically
    REJECT = "reject"  # refused at the handshake


class TagPolicy(enum.StrEnum):
    """What happens to an id tag that is not in the list."""

    ACCEPT = "accept"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class CentralSystemConfig:
    """Settings of one central system."""

    host: str = "0.0.0.0"
    port: int = 9000
    ssl_context: ssl.SSLContext | None = None
    password: str | None = None
    charger_policy: ChargerPolicy = ChargerPolicy.ASK
    tag_policy: TagPolicy = TagPolicy.ACCEPT
    heartbeat_interval: int = 60
    response_timeout: float = 30.0
    remote_id_tag: str = "energy-coordinator"
