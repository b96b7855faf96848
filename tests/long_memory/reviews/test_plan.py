"""The long-memory plan of the review jobs, without Snakemake: jobs, seeds, files, settings
and the config checks of the review training jobs."""

from __future__ import annotations

from rnnmem.core.settings import schema_defaults, settings_json
from rnnmem.long_memory import plan


def section(**reviews) -> dict:
    return schema_defaults("long_memory", reviews=reviews)


def test_one_review_job_per_layout_and_model():
    s = section(layouts=["authors", "transpose"], models=["rnn", "mlstmf"])
    assert plan.review_jobs(s) == [
        ("authors", "rnn"),
        ("authors", "mlstmf"),
        ("transpose", "rnn"),
        ("transpose", "mlstmf"),
    ]
    assert plan.review_jobs(section(enabled=False)) == []


def test_review_seeds_and_files():
    s = schema_defaults("long_memory", seed_base=3, reviews={"seeds": 2, "K": 25, "hidden": 8})
    assert plan.review_seeds(s) == [3, 4]
    assert plan.review_seed_files(s, "transpose", "lstm") == [
        "results/long_memory/reviews/runs/transpose/lstm-K25-H8/seed3.npz",
        "results/long_memory/reviews/runs/transpose/lstm-K25-H8/seed4.npz",
    ]
    assert plan.review_outputs(s) == [
        "results/long_memory/reviews/runs/{layout}/{model}-K25-H8/seed3.npz",
        "results/long_memory/reviews/runs/{layout}/{model}-K25-H8/seed4.npz",
    ]


def test_a_review_job_settings():
    settings = plan.review_job_settings(section(seeds=2, seq_len=30), "smoke", "authors", "rnn")
    # The exact JSON the rule passes: a change here replans every finished review job.
    assert settings_json(settings) == (
        '{"K":50,"hidden":128,"layout":"authors","model":"rnn","seed_chunk":100,"seeds":[0,1],'
        '"seq_len":30,"split_seed":0,"split_sizes":[282,50,50],"threads":1,"tier":"smoke",'
        '"training":{"batch_size":64,"betas":[0.9,0.999],"dtype":"float32","epochs":100,'
        '"eps":1e-08,"lr":0.001,"weight_decay":0.0005}}'
    )


def test_split_sizes_that_do_not_add_up_to_the_kept_reviews_are_named():
    for sizes in ([282, 50, 49], [300, 50, 50]):
        problems = plan.config_problems(section(split_sizes=sizes))
        assert len(problems) == 1, problems
        assert problems[0].startswith(f"config key long_memory.reviews.split_sizes={sizes}")
        assert f"adds up to {sum(sizes)}" in problems[0] and "382 kept reviews" in problems[0]
    assert plan.config_problems(section(split_sizes=[182, 100, 100])) == []
    assert plan.config_problems(section(split_sizes=[1, 1, 1], enabled=False)) == []


def test_a_word2vec_min_count_above_one_is_named():
    problems = plan.config_problems(section(word2vec={"min_count": 2}))
    assert len(problems) == 1
    assert problems[0].startswith("config key long_memory.reviews.word2vec.min_count=2 must be 1")


def test_every_problem_is_reported_at_once():
    s = schema_defaults(
        "long_memory",
        experiment2={"generator": {"length": 100}},
        reviews={"split_sizes": [1, 1, 1], "word2vec": {"min_count": 3}},
    )
    keys = [p.split("=")[0] for p in plan.config_problems(s)]
    assert keys == [
        "config key long_memory.experiment2.generator.length",
        "config key long_memory.reviews.split_sizes",
        "config key long_memory.reviews.word2vec.min_count",
    ]


def test_kept_reviews_is_the_count_of_the_pinned_file(reviews):
    assert len(reviews) == plan.KEPT_REVIEWS


def test_a_rare_word_gets_no_vector_so_min_count_must_be_1(reviews):
    # Why the check exists: the pinned file holds words seen once (min_count 2 drops them).
    counts = {}
    for review in reviews.tokens:
        for token in review:
            counts[token] = counts.get(token, 0) + 1
    assert min(counts.values()) == 1
