"""Chalice blueprints: thin views that parse input, call one logic function, shape output."""
