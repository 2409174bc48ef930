"""Mixing schedules and the batch sampler: the realised distilled share follows p_D(t), every
strategy gets the same number of steps, and a seed fixes the batches."""
import math

import pytest

from ner_distill import mixing

# The pools of bench/strategies.py: 5,873 gpt-3.5-labelled sentences (1 epoch), 1,000 gold (2 epochs).
N_D, N_O, E_D, E_O, B = 5873, 1000, 1, 2, 32
S = mixing.total_steps(N_D, N_O, E_D, E_O, B)
TAU = mixing.distilled_fraction(N_D, N_O, E_D, E_O)
WINDOW = 10          # steps per window
# Tolerance: error diffusion keeps each window within one sentence of its target share.


# Sentence lengths of a realistic spread (CoNLL-2003 sentences run from 1 to over 100 words), for bucketing.
LENGTHS = [1 + (i * 7919) % 60 + (i % 13 == 0) * 50 for i in range(N_D + N_O)]


def sampler(strategy, seed=0, bucket=1, **params):
    return mixing.MixedBatchSampler(N_D, N_O, strategy, S, B, seed, TAU, params, lengths=LENGTHS, bucket=bucket)


@pytest.mark.parametrize("bucket", [1, 5])
@pytest.mark.parametrize("strategy", list(mixing.STRATEGIES))
def test_realised_share_follows_schedule(strategy, bucket):
    "Also with length bucketing over windows of 5 steps (which the 10-step windows checked here align with)."
    s = sampler(strategy, bucket=bucket)
    batches, plan = list(s), s.plan()
    assert len(batches) == S and all(len(b) == B for b in batches)
    for w in range(0, S, WINDOW):
        got = sum(s.is_distilled(i) for b in batches[w:w + WINDOW] for i in b) / (len(batches[w:w + WINDOW]) * B)
        want = sum(plan[w:w + WINDOW]) / len(plan[w:w + WINDOW])
        n = len(plan[w:w + WINDOW])
        assert abs(got - want) <= 1 / (n * B) + 1e-9, (strategy, w, got, want)   # at most one sentence off
    # each plan value is the strategy's function at t = step / S
    assert plan[S // 3] == pytest.approx(mixing.p_distilled(strategy, (S // 3) / S, TAU))


def test_step_budget_is_the_same_for_every_strategy():
    assert {len(list(sampler(name))) for name in mixing.STRATEGIES} == {S}
    assert S == math.ceil((N_D * E_D + N_O * E_O) / B)


def test_distilled_then_gold_spends_its_share_on_distilled():
    s = sampler("distilled_then_gold")
    n_d = sum(s.is_distilled(i) for b in s for i in b)
    assert abs(n_d - N_D * E_D) <= 2 * B      # one epoch of D (S is rounded up), then only gold
    assert not any(s.is_distilled(i) for b in list(s)[math.ceil(TAU * S):] for i in b)


def test_same_seed_same_batches_other_seed_other_batches():
    assert list(sampler("sigmoid", 1)) == list(sampler("sigmoid", 1))
    assert list(sampler("sigmoid", 1)) != list(sampler("sigmoid", 2))


def test_pool_reshuffled_only_when_exhausted():
    from collections import Counter
    for name in ("distilled", "gold", "concat"):
        s = sampler(name)
        for pool in (range(N_D), range(N_D, N_D + N_O)):
            seen = Counter(i for b in s for i in b if i in pool)
            if seen:   # every sentence of a pool is drawn k or k+1 times: no repeats before exhaustion
                counts = [seen.get(i, 0) for i in pool]
                assert max(counts) - min(counts) <= 1, name


def test_schedule_parameters_change_the_curve():
    assert mixing.p_distilled("sigmoid", 0.3, TAU, k=10, t0=0.5) > mixing.p_distilled("sigmoid", 0.3, TAU, k=10, t0=0.2)
    assert mixing.p_distilled("power_decay", 0.5, TAU, alpha=1) == pytest.approx(0.5)


def test_a_new_strategy_is_one_function():
    @mixing.strategy("half")
    def half(t, tau, **_): return 0.5
    try:
        s = mixing.MixedBatchSampler(100, 100, "half", 10, 10, 0)
        assert sum(s.is_distilled(i) for b in s for i in b) == 50
    finally:
        del mixing.STRATEGIES["half"]


def test_errors():
    with pytest.raises(ValueError, match="unknown strategy"):
        mixing.MixedBatchSampler(10, 10, "nope", 5)
    with pytest.raises(ValueError, match="empty pool"):
        list(mixing.MixedBatchSampler(0, 10, "distilled", 5, 4))


@pytest.mark.parametrize("strategy", ["distilled_then_gold", "gold_then_distilled"])
def test_bucketing_never_crosses_a_phase_switch(strategy):
    s = sampler(strategy, bucket=8)
    assert all(len({s.is_distilled(i) for i in b}) == 1 for b in s)        # every batch wholly one phase
    plain = list(sampler(strategy))
    for a, e in s.windows():                                                # the same sentences in each window
        assert sorted(i for b in list(s)[a:e] for i in b) == sorted(i for b in plain[a:e] for i in b)


def test_bucketing_cuts_padding():
    pad = lambda bs: sum(max(LENGTHS[i] for i in b) * len(b) - sum(LENGTHS[i] for i in b) for b in bs)
    assert pad(list(sampler("sigmoid", bucket=8))) < pad(list(sampler("sigmoid"))) / 3
