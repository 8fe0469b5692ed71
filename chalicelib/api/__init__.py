"""Chalice blueprints: thin views that parse input, call one logic function, shape output.

The API is one Lambda function: every cold start imports every blueprint, but a request
needs only its own route's logic. So a view imports the logic module it calls (and the
request models of `logic/inputs.py`, which bring pydantic) inside its own body, the one
way this code defers an import: Python keeps a module once it is loaded, so only the
first request of a route pays for it, and requests of other routes never do.
`bench/cold_start.py` measures what that saves.
"""
