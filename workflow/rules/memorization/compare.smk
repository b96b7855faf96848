# Published beside reproduced (rnnmem/memorization/compare.py): Fig. 6
# (data/published/memorization-fig6.csv) and the numbers the text states against the
# aggregated runs and capacity tables; an annotated cell the tier did not run is "not run".

# figure option -> file stem under results/memorization/, caption
MEM_COMPARE_FIGURES = {
    "fig6": ("compare_fig6", "compare_fig6.rst"),
    "grid": ("compare_fig6_grid", "compare_grid.rst"),
    "text": ("compare_text", "compare_text.rst"),
}


rule compare_memorization:
    input:
        fig6="data/published/memorization-fig6.csv",
        runs=rules.aggregate_memorization.output.runs,
        capacity=rules.aggregate_memorization.output.capacity,
    output:
        **{
            name: report(
                f"{MEM_OUT}/{stem}.png",
                caption=f"../../report/memorization/{caption}",
                category="Reproduction",
                subcategory="Memorization",
            )
            for name, (stem, caption) in MEM_COMPARE_FIGURES.items()
        },
        **{
            f"{name}_pdf": f"{MEM_OUT}/{stem}.pdf"
            for name, (stem, _) in MEM_COMPARE_FIGURES.items()
        },
        **{
            f"{name}_provenance": f"{MEM_OUT}/{stem}.png.provenance.json"
            for name, (stem, _) in MEM_COMPARE_FIGURES.items()
        },
        csv=f"{MEM_OUT}/comparison.csv",
        csv_provenance=f"{MEM_OUT}/comparison.csv.provenance.json",
        md=report(
            f"{MEM_OUT}/comparison.md",
            caption="../../report/memorization/compare.rst",
            category="Reproduction",
            subcategory="Memorization",
        ),
    log:
        f"{MEM_LOG}/compare.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        settings=settings_json({"theta": MEM["theta"]}),
        tier=TIER,
        code=command_code("compare-memorization"),
    shell:
        "python -m rnnmem compare-memorization --settings {params.settings:q} "
        "--fig6 {input.fig6} --runs {input.runs} --capacity {input.capacity} "
        "--tier {params.tier} --csv {output.csv} --md {output.md} "
        "--fig6-figure {output.fig6} --grid-figure {output.grid} "
        "--text-figure {output.text} > {log} 2>&1"
