"""rnnmem/core/claims.py: the generic claim helpers and the summary of every study's claims."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnmem.core.claims import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    PARTLY,
    Claim,
    count_verdict,
    sig,
    summary_main,
    write_claims,
)
from rnnmem.core.provenance import provenance, read_record, sidecar_path


def test_sig_keeps_significant_digits_not_decimals():
    assert sig(0.0031234567) == 0.003123  # num(…, 4) would give 0.0031
    assert sig(123456.7) == 123500.0
    assert sig(0.123456, 3) == 0.123
    assert sig(np.float32(2.5)) == 2.5 and isinstance(sig(np.float32(2.5)), float)
    assert sig(None) is None and sig(np.nan) is None and sig(np.inf) is None


@pytest.mark.parametrize(
    "agree, tested, verdict",
    [(3, 3, HOLDS), (0, 3, FAILS), (1, 3, PARTLY), (2, 3, PARTLY), (0, 0, INCONCLUSIVE)],
)
def test_count_verdict(agree, tested, verdict):
    assert count_verdict(agree, tested) == verdict


def study_claims(folder, verdicts, jobs) -> str:
    """A study's claims.csv (+ its record naming `jobs`), as every study's claims command writes."""
    claims = [Claim(f"C{i}", "said", "tested", v) for i, v in enumerate(verdicts)]
    record = provenance(settings={"alpha": 0.05}, jobs=jobs)
    csv = folder / "claims.csv"
    write_claims(claims, csv, folder / "claims.md", "a study", "test", provenance=record)
    return str(csv)


def test_summary_records_each_studys_claims_record_and_the_jobs_behind_them(tmp_path):
    a = study_claims(tmp_path / "a", [HOLDS, FAILS], [{"job": 1}, {"job": 2}])
    b = study_claims(tmp_path / "b", [PARTLY], [{"job": 2}, {"job": 3}])
    out = tmp_path / "claims.csv"
    args = ["--claims", a, b, "--studies", "alpha", "beta", "--tier", "test"]
    assert summary_main(args + ["--csv", str(out), "--md", str(tmp_path / "claims.md")]) == 0
    table = pd.read_csv(out)
    assert list(table["study"]) == ["alpha", "alpha", "beta"]
    assert sidecar_path(out).is_file()
    record = read_record(out)
    assert record["tier"] == "test"
    assert record["studies"] == {"alpha": read_record(a), "beta": read_record(b)}
    assert record["jobs"] == [{"job": 1}, {"job": 2}, {"job": 3}]  # each job once
    assert "| beta | partly | 1 |" in (tmp_path / "claims.md").read_text()


def test_summary_names_a_claims_file_without_a_record(tmp_path):
    a = study_claims(tmp_path / "a", [HOLDS], [{"job": 1}])
    sidecar_path(a).unlink()
    args = ["--claims", a, "--studies", "alpha", "--tier", "test"]
    args += ["--csv", str(tmp_path / "c.csv"), "--md", str(tmp_path / "c.md")]
    with pytest.raises(FileNotFoundError, match="claims.csv: no provenance record"):
        summary_main(args)


def test_claim_numbers_read_as_tables_not_dicts(tmp_path):
    numbers = {
        "E1": {"mean": 1.123456, "mean_rnn": 1.163, "welch_t": -2.5},
        "cells": [{"n": 3, "ok": True}, {"n": 4, "ok": False}],
        "ks": [25, 50],
        "missing": None,
    }
    claim = Claim("C1", "said", "tested", HOLDS, numbers)
    write_claims([claim], tmp_path / "c.csv", tmp_path / "c.md", "a study", "test")
    md = (tmp_path / "c.md").read_text()
    assert "{" not in md and "{'" not in md
    for row in (
        "| E1.mean | 1.123 |",
        "| E1.welch_t | -2.5 |",
        "| cells[1].ok | no |",
        "| ks | 25, 50 |",
        "| missing | - |",
    ):
        assert row in md


def test_summary_shows_each_claims_key_numbers(tmp_path):
    folder = tmp_path / "a"
    claims = [Claim("C1", "said", "tested", HOLDS, {"mean": 0.5, "sd": 0.1, "n": 3, "z": 1.0})]
    write_claims(claims, folder / "claims.csv", folder / "claims.md", "a", "test", provenance({}))
    args = ["--claims", str(folder / "claims.csv"), "--studies", "alpha", "--tier", "test"]
    summary_main(args + ["--csv", str(tmp_path / "s.csv"), "--md", str(tmp_path / "s.md")])
    assert (
        "| alpha | C1 | **holds** | mean = 0.5; sd = 0.1; n = 3; ... (+1) | tested |"
        in (tmp_path / "s.md").read_text()
    )
