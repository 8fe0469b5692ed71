"""The Chalice app: created here, and wired to its middleware, blueprints and handlers.

Nothing here connects to anything: settings are read and clients created on first use.
"""

from chalice import Chalice

from chalicelib.api import (
    actions,
    audit,
    auth,
    campaigns,
    dashboard,
    events,
    health,
    integrations,
    lists,
    me,
    privacy,
    reports,
    work,
)
from chalicelib.api.http import http_middleware
from chalicelib.observability import flushing_metrics

app = Chalice(app_name="volunteer-organizer")
app.register_middleware(flushing_metrics, "all")
app.register_middleware(http_middleware, "http")

for blueprint in (
    health.bp,
    auth.bp,
    me.bp,
    campaigns.bp,
    actions.bp,
    lists.bp,
    reports.bp,
    dashboard.bp,
    integrations.bp,
    audit.bp,
    privacy.bp,
    work.bp,
    events.bp,
):
    app.register_blueprint(blueprint)
