"""Every route's AWS calls held to the budget in `bench/route_budget.json` (written by
`ENGINE=moto bench/route_costs.py --write-budget`): counts are exact, so a route that makes
one more call than its budget fails here, and a route whose cost grows with the size of
the campaign must say why in the budget's `grows`."""

from __future__ import annotations

import json

import pytest

from bench import route_costs


@pytest.fixture(scope="module")
def budget():
    return json.loads(route_costs.BUDGET.read_text())


def test_every_route_is_measured_or_said_why_not(chalice_app):
    routes = {(m, p) for p, ms in chalice_app.routes.items() for m in ms}
    measured = {(m, p) for m, p, _call in route_costs.ROUTES}
    assert routes - measured - route_costs.NOT_MEASURED == set()
    assert measured | route_costs.NOT_MEASURED >= routes
    assert not measured & route_costs.NOT_MEASURED


@pytest.mark.parametrize("size", [10, 100])
def test_no_route_costs_more_than_its_budget(size, raw_api, imports, fakes, budget):
    world = route_costs.build(raw_api, fakes["van"], size, imports.drain)
    with route_costs.metering(units=False):
        costs = route_costs.run_routes(world)
    over = []
    for name, cost in costs.items():
        allowed = budget["calls"][name][str(size)]
        for service in route_costs.COUNTED:
            if cost[service] > allowed[service]:
                over.append(f"{name} at {size}: {service} {cost[service]} > {allowed[service]}")
    assert over == []


def test_only_the_routes_said_to_grow_cost_more_with_more_items(budget):
    grows = budget.get("grows", {})
    for name, by_size in budget["calls"].items():
        sizes = sorted(by_size, key=int)
        small, large = by_size[sizes[0]], by_size[sizes[-1]]
        if name in grows:
            assert len(grows[name]) > 20, f"{name}: say why it grows"
            continue
        assert large == small, f"{name} costs {small} at {sizes[0]} items, {large} at {sizes[-1]}"
