"""Workflow tests of the long-memory rules: real Snakemake runs in a copy of the repository.

One module-scoped run of a small grid (data from the local mirror) feeds the checks:
every output present, nothing left to do, a byte-identical rerun in place, params-precise
reruns, clean errors on bad config naming the key (a cross-key problem stops the run before
any job, so no earlier result is lost). The fetch rules: test_fetch_workflow.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import MIRROR, copy_repo, planned_jobs, snakemake, tree_hashes

from rnnmem.long_memory.plan import KEPT_REVIEWS

pytestmark = pytest.mark.workflow

TARGETS = ["figures_long_memory", "figures_reviews", "claims_long_memory", "compare_long_memory"]
# Small, but every rule and both traffic splits: 12 training jobs; 4 review jobs.
TEST_LONG_MEMORY = {
    "source": {"mirror": str(MIRROR)},
    "traffic_splits": ["paper", "code"],
    "training": {"max_epochs": 6, "patience": 3, "checkpoint_every": 2},
    "experiment1": {
        "datasets": ["traffic"],
        "models": ["rnn", "mrnn", "lstm", "mlstm"],
        "seeds": 3,
    },
    "experiment2": {"models": ["rnn", "mrnnf"], "seeds": 3},
    "experiment3": {"datasets": ["traffic"], "models": ["mrnn"], "K": [25, 100], "seeds": 2},
    "reviews": {
        "models": ["rnn", "mrnnf"],
        "layouts": ["authors", "transpose"],
        "seeds": 2,
        "seq_len": 30,
        "training": {"epochs": 2},
    },
}


def config_args(workdir: Path, config: dict | None = None) -> list[str]:
    """The smoke tier plus TEST_LONG_MEMORY plus `config` (merged on top, one level deep)."""
    extra = workdir / "test-long-memory.yaml"
    extra.write_text(yaml.safe_dump({"long_memory": {**TEST_LONG_MEMORY, **(config or {})}}))
    return ["--configfile", "config/smoke.yaml", str(extra)]


def run(workdir: Path, *args, config: dict | None = None, targets=TARGETS, check=True):
    return snakemake(
        workdir, *args, *targets, "--cores", "2", *config_args(workdir, config), check=check
    )


def planned(workdir: Path, config: dict | None = None) -> dict[str, int]:
    return planned_jobs(workdir, *TARGETS, *config_args(workdir, config))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    if not MIRROR.exists():
        pytest.skip(f"no data mirror at {MIRROR}")
    work = copy_repo(tmp_path_factory.mktemp("long_memory") / "repo")
    run(work)
    return work


def test_run_writes_every_output(workdir):
    out = workdir / "results" / "long_memory"
    for name in ("runs.csv", "summary.csv", "ttests.csv", "curves.csv", "predictions.csv"):
        assert (out / f"{name}.provenance.json").exists(), name
    for name in (
        "tables.md",
        "claims.csv",
        "claims.md",
        "exp1_rmse_paper.png",
        "exp1_rmse_code.pdf",
        "exp2_rmse.png",
        "exp3_k_sweep.png",
        "curves_traffic-code.png",
        "segment_rnn_generated-paper.png",
        "exp2_rmse.png.provenance.json",
        "segment_rnn_generated-paper.png.provenance.json",
    ):
        assert (out / name).stat().st_size > 0, name
    runs = pd.read_csv(out / "runs.csv")
    counts = runs.groupby("experiment").size().to_dict()
    # exp1: 2 splits x 4 models x 3 seeds; exp2: 2 models x 3; exp3: 2 splits x 2 K x 2 seeds
    assert counts == {"exp1": 24, "exp2": 6, "exp3": 8}
    assert set(runs["K"]) == {25, 100} and set(runs["split"]) == {"paper", "code"}
    # A job shared by exp1 (3 seeds) and exp3 (2 seeds) trains 3 and exp3 reads its first 2.
    files = sorted((out / "runs" / "traffic-paper" / "mrnn-K100-H1").glob("seed*.npz"))
    assert [f.name for f in files] == ["seed0.npz", "seed1.npz", "seed2.npz"]
    assert (runs["epochs_run"] <= 6).all()
    claims = pd.read_csv(out / "claims.csv")
    assert len(claims) == 10 and set(claims["verdict"]) <= {
        "holds",
        "partly",
        "fails",
        "inconclusive",
    }
    generated = out / "data" / "rnn_generated.csv"
    assert json.loads(Path(f"{generated}.sha256.json").read_text())["rows"] == 4001
    assert not (out / "checkpoints").exists() or not any((out / "checkpoints").rglob("*.npz"))


def test_reviews_outputs(workdir):
    out = workdir / "results" / "long_memory" / "reviews"
    counts = json.loads((out / "data" / "counts.json").read_text())
    assert (counts["spanish_reviews"], counts["kept_reviews"], counts["tokens"]) == (
        388,
        KEPT_REVIEWS,  # what the split_sizes check counts on
        62_417,
    )
    sidecar = json.loads((out / "data" / "embeddings.npz.provenance.json").read_text())
    assert sidecar["sha256"] == counts["embedding"]["sha256"]
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 2 * 2 * 2 and set(runs["layout"]) == {"authors", "transpose"}
    assert runs["accuracy"].between(0, 1).all()
    tables = (out / "tables.md").read_text()
    assert "Table 5" in tables and "| MRNNF50 | 2 |" in tables and "transpose" in tables
    assert (out / "test_accuracy.pdf").stat().st_size > 0
    assert (out / "test_accuracy.png.provenance.json").stat().st_size > 0
    claims = pd.read_csv(workdir / "results" / "long_memory" / "claims.csv")
    assert {"R-memory-beats-baselines", "R-transpose-better"} <= set(claims["claim"])


def test_comparison_outputs(workdir):
    out = workdir / "results" / "long_memory"
    for stem in ("table2", "table2_grid", "exp2", "table5", "table6"):
        for suffix in (".png", ".pdf", ".png.provenance.json"):
            assert (out / f"compare_{stem}{suffix}").stat().st_size > 0, stem
    table = pd.read_csv(out / "comparison.csv")
    counts = table.groupby("table", sort=False).size().to_dict()
    assert counts == {"Table 2": 36, "Experiment 2": 32, "Table 5": 16, "Table 6": 16}
    ran = table[table["verdict"] != "not run"]
    assert set(ran["verdict"]) <= {"agrees", "differs"} and ran["reproduced"].notna().all()
    # what TEST_LONG_MEMORY runs: traffic x 4 models (3 seeds); Exp. 2's RNN and MRNNF (3
    # seeds, 4 box-plot values each); RNN and MRNNF50 in the authors layout (2 seeds)
    cells = ran.groupby("table", sort=False)["cell"].unique().map(sorted).to_dict()
    assert cells == {
        "Table 2": ["traffic / LSTM", "traffic / MLSTM", "traffic / MRNN", "traffic / RNN"],
        "Experiment 2": ["MRNNF", "RNN"],
        "Table 5": ["MRNNF50", "RNN"],
        "Table 6": ["MRNNF50", "RNN"],
    }
    assert set(ran.loc[ran["table"] == "Table 2", "seeds"]) == {3}
    assert set(ran.loc[ran["table"] == "Table 5", "seeds"]) == {2}
    differs = ran[ran["verdict"] == "differs"]
    assert differs["note"].str.contains("at most 6 epochs|word2vec|generator").all()
    # a published cell this tier did not run: "not run", NaN, the config key that would run it
    arfima = table[table["cell"] == "arfima / RNN"].iloc[0]
    assert arfima["verdict"] == "not run" and pd.isna(arfima["reproduced"])
    assert arfima["seeds"] == 0 and "long_memory.experiment1.datasets" in arfima["note"]
    page = (out / "comparison.md").read_text()
    assert "- Table 2: " in page and "32 published not run by this tier" in page
    assert "![Table 2](compare_table2.png)" in page


def test_rerun_has_nothing_to_do_and_is_byte_identical(workdir):
    assert planned(workdir) == {}
    before = tree_hashes(workdir / "results" / "long_memory")
    shutil.rmtree(workdir / "results" / "long_memory")
    run(workdir)
    assert tree_hashes(workdir / "results" / "long_memory") == before


@pytest.mark.parametrize(
    "change, expected",
    [
        # one more K in the sweep: its two training jobs (two traffic splits) and what follows
        (
            {"experiment3": {**TEST_LONG_MEMORY["experiment3"], "K": [25, 50, 100]}},
            {"train_long_memory_exp3": 2},
        ),
        # a training setting changes every job
        (
            {"training": {**TEST_LONG_MEMORY["training"], "lr": 0.02}},
            {"train_long_memory_exp1": 8, "train_long_memory_exp2": 2, "train_long_memory_exp3": 2},
        ),
        # a claim threshold reruns the claims only
        ({"claims": {"alpha": 0.1}}, {"claims_long_memory": 1}),
        # a review training setting: the review jobs (not the embeddings) and what follows
        (
            {"reviews": {**TEST_LONG_MEMORY["reviews"], "training": {"epochs": 2, "lr": 0.01}}},
            {"train_reviews": 4},
        ),
    ],
)
def test_params_changes_rerun_exactly_their_jobs(workdir, change, expected):
    jobs = planned(workdir, change)
    if "train_reviews" in expected:
        downstream = {"aggregate_reviews", "figures_reviews", "claims_long_memory"}
    else:
        downstream = {"aggregate_long_memory", "figures_long_memory", "claims_long_memory"}
    trains = {k: v for k, v in jobs.items() if k.startswith("train_")}
    assert "embed_reviews" not in jobs  # no change here touches the embeddings
    assert trains == {k: v for k, v in expected.items() if k.startswith("train_")}
    if trains:
        assert downstream <= set(jobs)
    else:
        assert jobs == expected


@pytest.mark.parametrize(
    "bad, key",
    [
        ({"training": {"lr": -1}}, "long_memory.training.lr"),
        ({"experiment1": {"models": ["rnn", "gru"]}}, "long_memory.experiment1.models[1]"),
        ({"traffic_splits": ["later"]}, "long_memory.traffic_splits[0]"),
        ({"colour": "red"}, "long_memory"),
        ({"reviews": {"layouts": ["authors", "rows"]}}, "long_memory.reviews.layouts[1]"),
        # cross-key checks (rnnmem/long_memory/plan.py: config_problems)
        (
            {"experiment2": {"models": ["rnn"], "generator": {"length": 3001}}},
            "long_memory.experiment2.generator.length=3001",
        ),
        (
            {"reviews": {**TEST_LONG_MEMORY["reviews"], "word2vec": {"min_count": 2}}},
            "long_memory.reviews.word2vec.min_count=2",
        ),
    ],
)
def test_bad_config_fails_naming_the_key(workdir, bad, key):
    before = tree_hashes(workdir / "results" / "long_memory")
    out = run(workdir, "-n", config=bad, check=False)
    assert out.returncode != 0
    assert f"config key {key}" in out.stdout + out.stderr
    assert tree_hashes(workdir / "results" / "long_memory") == before


def test_bad_split_sizes_stop_the_run_before_any_job_and_lose_nothing(workdir):
    # Found by train_reviews alone, this came after Snakemake had removed the job's earlier
    # seed files; checked while the workflow is read, no job starts and every file stays.
    results = workdir / "results" / "long_memory"
    before = tree_hashes(results)
    assert any(name.startswith("reviews/runs/") for name in before)
    bad = {"reviews": {**TEST_LONG_MEMORY["reviews"], "split_sizes": [282, 50, 49]}}
    out = run(workdir, config=bad, check=False)
    assert out.returncode != 0
    assert "config key long_memory.reviews.split_sizes=[282, 50, 49]" in out.stdout + out.stderr
    assert tree_hashes(results) == before
    assert planned(workdir) == {}  # the good config still finds everything done
