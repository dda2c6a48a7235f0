"""Constants of the Energy Coordinator integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "energy_coordinator"

CONF_SITE_NAME: Final = "site_name"
CONF_OCPP_PORT: Final = "ocpp_port"
CONF_SSL_CERTFILE: Final = "ssl_certfile"
CONF_SSL_KEYFILE: Final = "ssl_keyfile"
CONF_CHARGER_PASSWORD: Final = "charger_password"
CONF_CHARGER_POLICY: Final = "charger_policy"
CONF_TAG_POLICY: Final = "tag_policy"
CONF_REMOTE_ID_TAG: Final = "remote_id_tag"
CONF_HEARTBEAT_INTERVAL: Final = "heartbeat_interval"

DEFAULT_SITE_NAME: Final = "Home"
DEFAULT_OCPP_PORT: Final = 9000
DEFAULT_REMOTE_ID_TAG: Final = "energy-coordinator"
DEFAULT_HEARTBEAT_INTERVAL: Final = 60
#: Seconds a charger gets to answer a command.
RESPONSE_TIMEOUT: Final = 30.0
#: Address the OCPP server listens on.
OCPP_HOST: Final = "0.0.0.0"

SIGNAL_NEW_CHARGER: Final = "energy_coordinator_new_charger_{}"
