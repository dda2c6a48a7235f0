"""Tests of the charge point / EV simulator."""
