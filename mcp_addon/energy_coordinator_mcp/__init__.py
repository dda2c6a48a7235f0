"""Energy Coordinator MCP add-on: Home Assistant and the coordinator for Claude."""

__version__ = "0.1.0"
