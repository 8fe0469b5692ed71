"""The rate limiter of the HTTP core: pacing to a documented limit, learning an unknown one from
429s, Retry-After pausing every caller, and the clients sharing one limiter per account."""

from __future__ import annotations

import threading
import time

import pytest

from chalicelib.crm.errors import RateLimited
from chalicelib.crm.ratelimit import RateLimit, RateLimiter, shared_limiter
from chalicelib.crm.retries import RetryPolicy, deadline
from chalicelib.crm.salsa import SalsaClient
from chalicelib.crm.van import VanClient
from tests.fakes.salsa import FakeSalsa
from tests.fakes.van import FakeVan


class Clock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds

    def tick(self, seconds: float) -> None:
        self.now += seconds


def limiter(clock: Clock, limit: RateLimit | None = None) -> RateLimiter:
    return RateLimiter(limit, name="test", clock=clock, sleep=clock.sleep)


def learn(lim: RateLimiter, clock: Clock, taken: int, retry_after: float = 1.0) -> None:
    """The provider answers `taken` calls within half a second, then a 429."""
    for _ in range(taken):
        lim.accepted()
        clock.tick(0.5 / taken)
    lim.throttled(clock(), retry_after)


def test_a_documented_limit_paces_calls_after_its_burst() -> None:
    clock = Clock()
    lim = limiter(clock, RateLimit(per_second=10, burst=3))
    waits = [round(lim.acquire(10), 6) for _ in range(6)]
    assert waits == [0, 0, 0, 0.1, 0.1, 0.1]
    clock.tick(5)  # a lull gives the burst back, no more
    assert [round(lim.acquire(10), 6) for _ in range(4)] == [0, 0, 0, 0.1]


def test_an_unknown_limit_is_not_paced_until_a_429_teaches_it() -> None:
    clock = Clock()
    lim = limiter(clock)
    assert lim.rate is None
    assert all(lim.acquire(10) == 0 for _ in range(50))
    learn(lim, clock, taken=20)
    assert lim.rate == pytest.approx(RateLimiter.MARGIN * 20)  # under what the provider took
    assert lim.throttles == 1


def test_retry_after_pauses_every_caller_but_the_one_that_slept_it_out() -> None:
    clock = Clock()
    lim = limiter(clock)
    learn(lim, clock, taken=20, retry_after=2.0)
    assert lim.acquire(10, resumed=True) == 0  # it slept the 2 s itself
    assert lim.acquire(10) == pytest.approx(2.0)  # everyone else waits for the pause


def test_a_burst_of_429s_cuts_the_rate_once() -> None:
    clock = Clock()
    lim = limiter(clock)
    learn(lim, clock, taken=20)
    sent_before_the_cut = clock() - 0.05
    for _ in range(7):  # the other calls that were in flight come back 429 too
        lim.throttled(sent_before_the_cut, 1.0)
    assert lim.rate == pytest.approx(RateLimiter.MARGIN * 20)
    assert lim.throttles == 8


def test_a_429_at_a_known_rate_cuts_it_at_least_five_percent() -> None:
    clock = Clock()
    lim = limiter(clock)
    learn(lim, clock, taken=20)
    clock.tick(5)
    learn(lim, clock, taken=20)  # again, while paced: jitter, or someone else on the key
    assert lim.rate == pytest.approx(RateLimiter.MARGIN * 20 * RateLimiter.BACKOFF)


def test_too_long_a_wait_is_refused_before_anything_is_sent() -> None:
    clock = Clock()
    lim = limiter(clock)
    learn(lim, clock, taken=20, retry_after=30)
    with pytest.raises(RateLimited) as caught:
        lim.acquire(5)
    assert caught.value.retry_after == pytest.approx(30)
    assert "not sent" in caught.value.message
    assert clock.slept == []


def test_the_rate_grows_while_callers_queue_then_cruises_below_the_limit() -> None:
    clock = Clock()
    lim = limiter(clock)
    learn(lim, clock, taken=20)
    for _ in range(2000):  # saturated: every caller waits its turn
        lim.acquire(10, resumed=True)
    assert lim.rate is not None
    assert RateLimiter.MARGIN * 20 < lim.rate < 20  # above the cut, still under the limit
    probing = 0.0
    while lim.rate < 20.5 and probing < 1200:
        before = clock()
        lim.acquire(10, resumed=True)
        probing += clock() - before
    assert 100 < probing < 1200  # a raised limit is found again, in minutes


def test_an_idle_limiter_does_not_grow() -> None:
    clock = Clock()
    lim = limiter(clock)
    learn(lim, clock, taken=20)
    for _ in range(100):
        clock.tick(1.0)  # one call a second: nobody waits
        lim.acquire(10)
    assert lim.rate == pytest.approx(RateLimiter.MARGIN * 20)


def test_a_documented_limit_is_never_exceeded() -> None:
    clock = Clock()
    lim = limiter(clock, RateLimit(per_second=5, burst=10))
    for _ in range(5000):
        lim.acquire(100)
    assert lim.rate == 5


def test_threads_share_one_limiter_and_keep_its_pace() -> None:
    lim = RateLimiter(RateLimit(per_second=50))
    started = time.monotonic()
    threads = [
        threading.Thread(target=lambda: [lim.acquire(10) for _ in range(10)]) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started >= 39 / 50 - 0.01  # 40 calls at 50 a second


# ---- the clients --------------------------------------------------------------------------


def test_clients_of_one_account_share_a_limiter(van_fake: FakeVan) -> None:
    one = VanClient(van_fake.url, van_fake.credentials)
    two = VanClient(van_fake.url, van_fake.credentials)
    other_key = VanClient(van_fake.url, {**van_fake.credentials, "api_key": "another-key"})
    assert one.core.limiter is two.core.limiter
    assert other_key.core.limiter is not one.core.limiter
    assert shared_limiter("van", one.core.base_url, ["x"]) is not one.core.limiter
    for client in (one, two, other_key):
        client.close()


def test_salsa_is_paced_to_its_documented_limit() -> None:
    with FakeSalsa() as fake:
        client = SalsaClient(fake.url, fake.credentials)
        assert client.core.limiter.rate == pytest.approx(300 / 60 * 0.95)
        client.close()


def test_threads_against_a_rate_limited_van_learn_its_limit_and_lose_nothing(
    van_fake: FakeVan,
) -> None:
    """Four threads, each with its own client, 40 reads against a VAN that allows 20 a
    second: every call succeeds, the 429s are the few of the first burst, and the limiter
    ends below the limit."""
    van_fake.set_delay(0.01)
    van_fake.set_rate_limit(20, retry_after=1)
    failures: list[Exception] = []
    clients = [VanClient(van_fake.url, van_fake.credentials) for _ in range(4)]

    def work(client: VanClient) -> None:
        for _ in range(10):
            try:
                assert client.person_exists(1001)
            except Exception as exc:
                failures.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    assert failures == []
    statuses = [c.status for c in van_fake.calls]
    assert statuses.count(200) == 40
    assert statuses.count(429) <= 12  # those in flight at the first 429 (and a jitter cut)
    limiter = clients[0].core.limiter
    assert limiter.rate is not None and limiter.rate <= 20


def test_a_queue_wait_beyond_the_policy_is_rate_limited_unsent(van_fake: FakeVan) -> None:
    client = VanClient(van_fake.url, van_fake.credentials, retry=RetryPolicy(max_queue_wait=0.5))
    client.core.limiter.throttled(client.core.limiter.now(), 60.0)  # another caller's 429
    with pytest.raises(RateLimited, match="not sent"):
        client.post_canvass_response(1001, date="2026-11-01", contact_type_id=2, result_code_id=4)
    assert van_fake.calls == []
    client.close()


def test_no_wait_or_retry_runs_past_a_deadline(van_fake: FakeVan) -> None:
    slept: list[float] = []
    client = VanClient(van_fake.url, van_fake.credentials, sleep=slept.append)
    van_fake.fail_next(429, path=r"/people/\d+/canvassResponses", retry_after=5)
    with deadline(time.monotonic() + 1.0), pytest.raises(RateLimited):
        client.post_canvass_response(1001, date="2026-11-01", contact_type_id=2, result_code_id=4)
    assert slept == []  # a 5 s Retry-After does not fit in the second left
    with deadline(time.monotonic() + 1.0), pytest.raises(RateLimited, match="not sent"):
        client.person_exists(1001)  # the pause that 429 started outlasts the deadline
    assert len(van_fake.calls) == 1
    client.close()
