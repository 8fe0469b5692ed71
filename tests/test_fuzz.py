"""Arbitrary JSON thrown at every write route: never a 5xx."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import admin_with_mfa, create_action, create_campaign, join, volunteer

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=12,
)
# objects that use the routes' real field names, so validation goes deeper than the top
FIELDS = [
    "email",
    "password",
    "name",
    "phone",
    "mfa_token",
    "code",
    "refresh_token",
    "settings",
    "role",
    "type",
    "title",
    "instructions",
    "status",
    "questions",
    "responses",
    "text",
    "question_id",
    "response_id",
]
shaped = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)
bodies = shaped | json_values | st.text(max_size=40).map(lambda t: ("raw", t))


def _write_routes(app, world):
    cid, aid, uid = world
    for path, methods in app.routes.items():
        for method in methods:
            if method in ("POST", "PUT", "PATCH") and path != "/auth/logout":
                yield method, path.replace("{cid}", cid).replace("{aid}", aid).replace("{uid}", uid)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_write_route_answers_5xx(api, chalice_app, data):
    if not hasattr(test_no_write_route_answers_5xx, "world"):
        admin = admin_with_mfa(api)
        cid = create_campaign(api, admin)
        aid = create_action(api, admin, cid)["action_id"]
        vol = volunteer(api)
        join(api, admin, cid, vol)
        test_no_write_route_answers_5xx.world = (admin, (cid, aid, vol.user_id))
    admin, world = test_no_write_route_answers_5xx.world
    routes = sorted(_write_routes(chalice_app, world))
    method, path = data.draw(st.sampled_from(routes))
    body = data.draw(bodies)
    if isinstance(body, tuple):
        reply = api.call(method, path, raw=body[1], token=admin.token)
    else:
        reply = api.call(method, path, raw=json.dumps(body), token=admin.token)
    assert reply.status < 500, (method, path, body, reply)
    assert isinstance(reply.body, dict)
