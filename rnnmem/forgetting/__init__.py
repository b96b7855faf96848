"""Forgetting time of randomly initialised LSTM/GRU layers (docs/studies/forgetting.md).

Two input sequences A = [P_A; S] and B = [P_B; S] differ only in their first D steps.
Both go through the same untrained single recurrent layer from the zero state; the study
measures how many shared steps the two output streams need to become (and stay) identical.

Stages, as in every study package:

    settings   the study's vocabulary (cells, variants) and each job's settings dataclass
    plan       output folders per variant, the jobs and their files (read by the workflow)
    steppers   Keras-default initial weights and the two layer steppers (torch, keras22)
    metrics    the metrics of forgetting.md §4 from a gap sequence d_t, bitwise state equality
    simulate   one run (early stop on bitwise full-state equality) and the simulate command
    aggregate  per-run files -> runs.csv, summary.csv, decay_medians.npz
    figures    heat maps (LSTM | GRU) and the decay plot
    claims     claims L1, L2, G1, G2 of the post and the observation O1

Why its own steppers: the study measures when torch.nn's own kernels (nn.LSTM / nn.GRU,
CuDNN semantics) give bit-identical outputs for two runs, so it must run exactly those
kernels, batch 1, one layer per run. The memorization study's ensemble engine
(rnnmem.core.ensemble) stacks many models on a leading axis and computes the cells with its
own operations: a different summation order, hence different bits. Only the Keras 2.2
sensitivity variant (hard-sigmoid gates) is written out by hand, as Keras 2.2 computed it.

Randomness: every run's key (experiment, cell, n_in, units, run) hashes to a numpy
SeedSequence (rnnmem.core.seeds); its four spawned children feed four PCG64 Generators
(`np.random.default_rng(child)`): weights, P_A, P_B, S, in that order.
"""
