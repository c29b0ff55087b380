"""Tests of the scanner vendor connectors, against local stand-ins for the vendor APIs."""
