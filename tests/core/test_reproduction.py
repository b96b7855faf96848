"""The reproduction report (rnnmem/core/reproduction.py) from synthetic study outputs."""

from __future__ import annotations

import pandas as pd

from rnnmem.core.claims import HOLDS, Claim, write_claims
from rnnmem.core.compare import compare_mean, not_run
from rnnmem.core.io import write_csv, write_text
from rnnmem.core.provenance import provenance, read_record
from rnnmem.core.reproduction import main, rebase_links, settings_table


def study_outputs(folder, jobs):
    rows = [
        {"table": "Table 2", "cell": "arfima / RNN", "quantity": "test RMSE",
         **compare_mean(1.0, 0.1, [1.0, 1.1, 0.9]),
         "rule": "within one published sd", "note": "", "source": "aggregate: runs.csv"},
        {"table": "Table 2", "cell": "DJI / RNN", "quantity": "test RMSE x100",
         **compare_mean(1.0, 0.1, [1.5, 1.5, 1.5]), "rule": "within one published sd",
         "note": "fewer epochs", "source": "aggregate: runs.csv"},
        {"table": "Table 5", "cell": "RNN", "quantity": "accuracy", **not_run(0.28, 0.03),
         "rule": "within one published sd", "note": "reviews off",
         "source": "aggregate: runs.csv"},
    ]  # fmt: skip
    comparison = folder / "comparison.csv"
    write_csv(comparison, pd.DataFrame(rows), provenance=provenance(tier="test", jobs=jobs))
    write_text(folder / "comparison.md", "# Title\n\n## Table 2\n\n![fig](compare_table2.png)\n")
    claims = [Claim("E1", "said", "tested", HOLDS, {"mean": 1.0, "cells": [{"z": 0.5}]})]
    write_claims(claims, folder / "claims.csv", folder / "claims.md", "s", "test", provenance({}))
    return str(comparison), str(folder / "claims.csv")


def test_report_embeds_each_study_page_its_claims_settings_and_sources(tmp_path):
    jobs = [{"model": "rnn", "lr": 0.01}, {"model": "lstm", "lr": 0.01}]
    comparison, claims = study_outputs(tmp_path / "long_memory", jobs)
    out = tmp_path / "reproduction.md"
    assert (
        main(["--study", "long-memory", comparison, claims, "--tier", "test", "--out", str(out)])
        == 0
    )
    text = out.read_text()
    assert text.index("## long-memory") < text.index("#### Table 2")  # the page, under the study
    assert "![fig](long_memory/compare_table2.png)" in text  # link re-based to the report's folder
    assert "#### Table 2" in text  # the study page's headings sit under the study
    assert "| E1 | **holds** | mean = 1; cells[0].z = 0.5 | tested |" in text
    assert "| lr | 0.01 |" in text and "| model (varies) |" in text
    assert "| Table 2, Table 5 (reproduced) | aggregate: runs.csv |" in text
    assert sorted(j["model"] for j in read_record(out)["jobs"]) == ["lstm", "rnn"]


def test_links_are_rebased_and_settings_split_into_shared_and_varying(tmp_path):
    md = rebase_links("see ![a](x.png) and [b](sub/y.md) not [c](https://e.org/z)",
                      tmp_path / "s" / "comparison.md", tmp_path / "reproduction.md")  # fmt: skip
    assert md == "see ![a](s/x.png) and [b](s/sub/y.md) not [c](https://e.org/z)"
    lines = settings_table([{"a": 1, "b": {"c": 2}}, {"a": 1, "b": {"c": 3}}])
    assert "| a | 1 |" in lines and "| b.c (varies) | 2, 3 |" in lines


def test_without_a_comparison_page_the_summary_lines_are_computed(tmp_path):
    comparison, claims = study_outputs(tmp_path / "s", [{"model": "rnn"}])
    (tmp_path / "s" / "comparison.md").unlink()
    out = tmp_path / "reproduction.md"
    main(["--study", "s", comparison, claims, "--tier", "test", "--out", str(out)])
    text = out.read_text()
    assert "## s\n\n- Table 2: 1 of 2 means within one published sd, 1 differ\n" in text
    assert "- Table 5: 0 of 0 means within one published sd; 1 published not run" in text
