"""The local stack: the embedded AWS emulator, provisioning, demo data, the dev server,
the stream poller and the scheduler. Not part of what is deployed."""
