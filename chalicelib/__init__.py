"""The volunteer organizer backend: everything the Chalice app is built from."""
