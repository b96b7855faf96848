# Published beside reproduced (rnnmem/long_memory/compare.py): every published number of the
# study (data/published/long-memory-*.csv) against the runs tables of the parts this tier
# runs (time series and/or reviews); a published cell the tier did not run is "not run".

LM_PUBLISHED = {
    name: f"data/published/long-memory-{name.replace('_', '-')}.csv"
    for name in ("table2", "exp2_boxplot", "table5", "table6")
}
# figure option -> file stem under results/long_memory/, caption
LM_COMPARE_FIGURES = {
    "table2": ("compare_table2", "compare_table2.rst"),
    "grid": ("compare_table2_grid", "compare_grid.rst"),
    "exp2": ("compare_exp2", "compare_exp2.rst"),
    "table5": ("compare_table5", "compare_reviews.rst"),
    "table6": ("compare_table6", "compare_reviews.rst"),
}


rule compare_long_memory:
    input:
        **LM_PUBLISHED,
        **LM_CLAIMS_INPUTS,
    output:
        **{
            name: report(
                f"{LM_OUT}/{stem}.png",
                caption=f"../../report/long_memory/{caption}",
                category="Reproduction",
                subcategory="Long memory",
            )
            for name, (stem, caption) in LM_COMPARE_FIGURES.items()
        },
        **{
            f"{name}_pdf": f"{LM_OUT}/{stem}.pdf"
            for name, (stem, _) in LM_COMPARE_FIGURES.items()
        },
        **{
            f"{name}_provenance": f"{LM_OUT}/{stem}.png.provenance.json"
            for name, (stem, _) in LM_COMPARE_FIGURES.items()
        },
        csv=f"{LM_OUT}/comparison.csv",
        csv_provenance=f"{LM_OUT}/comparison.csv.provenance.json",
        md=report(
            f"{LM_OUT}/comparison.md",
            caption="../../report/long_memory/compare.rst",
            category="Reproduction",
            subcategory="Long memory",
        ),
    log:
        f"{LM_LOG}/compare.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        tier=TIER,
        inputs=lm_plan.claims_options(LM),
        code=command_code("compare-long-memory"),
    shell:
        "python -m rnnmem compare-long-memory --table2 {input.table2} "
        "--exp2-boxplot {input.exp2_boxplot} --table5 {input.table5} "
        "--table6 {input.table6} {params.inputs} --tier {params.tier} "
        "--csv {output.csv} --md {output.md} --table2-figure {output.table2} "
        "--grid-figure {output.grid} --exp2-figure {output.exp2} "
        "--table5-figure {output.table5} --table6-figure {output.table6} > {log} 2>&1"
