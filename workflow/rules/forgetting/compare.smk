# Published beside reproduced (rnnmem/forgetting/compare.py): the blog's two tables
# (data/published/forgetting-blog-tables.csv) against every metric of the primary variant's
# runs; a published cell the tier did not run is "not run". Other variants are not compared.

FORGET_OUT = forget_plan.out_dir(forget_plan.PRIMARY)
# figure option -> file stem under results/forgetting/, caption
FORGET_COMPARE_FIGURES = {
    "identity": ("compare_blog", "compare_blog.rst"),
    "grid": ("compare_blog_grid", "compare_grid.rst"),
}


rule compare_forgetting:
    input:
        blog="data/published/forgetting-blog-tables.csv",
        runs=f"{FORGET_OUT}/runs.csv",
    output:
        **{
            name: report(
                f"{FORGET_OUT}/{stem}.png",
                caption=f"../../report/forgetting/{caption}",
                category="Reproduction",
                subcategory="Forgetting time",
            )
            for name, (stem, caption) in FORGET_COMPARE_FIGURES.items()
        },
        **{
            f"{name}_pdf": f"{FORGET_OUT}/{stem}.pdf"
            for name, (stem, _) in FORGET_COMPARE_FIGURES.items()
        },
        **{
            f"{name}_provenance": f"{FORGET_OUT}/{stem}.png.provenance.json"
            for name, (stem, _) in FORGET_COMPARE_FIGURES.items()
        },
        csv=f"{FORGET_OUT}/comparison.csv",
        csv_provenance=f"{FORGET_OUT}/comparison.csv.provenance.json",
        metrics=f"{FORGET_OUT}/comparison_metrics.csv",
        metrics_provenance=f"{FORGET_OUT}/comparison_metrics.csv.provenance.json",
        md=report(
            f"{FORGET_OUT}/comparison.md",
            caption="../../report/forgetting/compare.rst",
            category="Reproduction",
            subcategory="Forgetting time",
        ),
    log:
        f"{forget_plan.log_dir(forget_plan.PRIMARY)}/compare.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        tier=TIER,
        code=command_code("compare-forgetting"),
    shell:
        "python -m rnnmem compare-forgetting --blog {input.blog} --runs {input.runs} "
        "--tier {params.tier} --csv {output.csv} --metrics-csv {output.metrics} "
        "--md {output.md} --identity-figure {output.identity} "
        "--grid-figure {output.grid} > {log} 2>&1"
