"""OCPP central system: server, 1.6J and 2.0.1 handlers, charger model, ledger.

`server` (the websocket server and its chargers), `link` (what both versions'
connections share), `ocpp16` and `ocpp201` (+ `station201`, `transactions201`,
`commands201`, `device_model201`), `model` (what the HA layer reads), `ledger`
(transactions and energy) over `sessions` (the durable store), `meter` (units and
the monotonic total), `commands` (the command vocabulary and its errors), `config`.
Nothing in this package imports Home Assistant.
"""
