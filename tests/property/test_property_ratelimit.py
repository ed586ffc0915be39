"""Properties of the fake's rate-limit windows (KuCoin: a quota per 30 s window that opens with
the first request, https://www.kucoin.com/docs-new/rate-limit)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from safetrade.testing._ratelimit import Cost, Pool, RateLimiter, Window, charge

PERIOD = 30_000
START = 1_764_547_200_000
# small quotas, so that a few dozen requests reach them
QUOTAS = {Pool.PUBLIC: 20, Pool.SPOT: 30, Pool.MANAGEMENT: 15}

# (pool, API key, milliseconds since the previous request, weight); time only moves forward
REQUESTS = st.lists(
    st.tuples(
        st.sampled_from(list(Pool)),
        st.sampled_from(["a", "b"]),
        # mostly short gaps; one in ~16 is one that ends a window, or only just fails to
        st.integers(0, 3_200).map(lambda g: g if g <= 3_000 else PERIOD - 3_002 + g),
        st.integers(1, 15),
    ),
    min_size=1,
    max_size=30,
)


@given(REQUESTS)
def test_every_pool_of_every_scope_is_kucoins_fixed_window(
    requests: list[tuple[Pool, str, int, int]],
) -> None:
    """Against a model written from KuCoin's wording, kept per (scope, pool): a window opens
    with the first request after the last one ended, lasts 30 s and takes requests while their
    weights fit; a refused request changes nothing, so no window takes more than its quota. The
    Public pool is the one client's whatever the key; every other pool is the key's."""
    limiter = RateLimiter(QUOTAS, PERIOD)
    model: dict[tuple[str, Pool], tuple[int, int]] = {}  # scope -> (opened, took)
    now = START
    for pool, key, gap, weight in requests:
        now += gap
        scope = (RateLimiter.CLIENT if pool is Pool.PUBLIC else key, pool)
        opened, took = model.get(scope, (now, 0))
        if now >= opened + PERIOD:
            opened, took = now, 0
        quota = QUOTAS[pool]
        fits = took + weight <= quota
        model[scope] = opened, took + weight if fits else took

        verdict = limiter.take(Cost(pool, weight), api_key=key, now_ms=now)
        assert verdict.allowed is fits
        assert verdict.limit == quota
        assert verdict.remaining == quota - model[scope][1] >= 0
        assert fits or verdict.remaining < weight
        assert verdict.reset_ms == opened + PERIOD - now
        assert 0 < verdict.reset_ms <= PERIOD


@given(st.integers(0, 60), st.integers(0, PERIOD - 1), st.integers(1, 60))
def test_a_window_refuses_until_it_has_run_and_then_takes_the_full_quota(
    used: int, age: int, weight: int
) -> None:
    window = Window(START, used)
    now = START + age
    after, verdict = charge(window, quota=60, weight=weight, now_ms=now, period_ms=PERIOD)
    assert verdict.allowed is (used + weight <= 60)
    assert after == (Window(START, used + weight) if verdict.allowed else window)
    assert verdict.reset_ms == PERIOD - age
    fresh, verdict = charge(after, quota=60, weight=weight, now_ms=START + PERIOD)
    assert verdict.allowed
    assert fresh == Window(START + PERIOD, weight)
    assert (verdict.remaining, verdict.reset_ms) == (60 - weight, PERIOD)
