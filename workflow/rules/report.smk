# Across studies: every claim of every enabled study in one table and one page.
# (The HTML report itself: snakemake --report results/report.html.)


rule claims_summary:
    input:
        claims=list(CLAIMS.values()),
    output:
        csv="results/claims.csv",
        csv_provenance="results/claims.csv.provenance.json",
        md=report(
            "results/claims.md",
            caption="../report/claims_summary.rst",
            category="Claims",
        ),
    log:
        "logs/claims_summary.log",
    conda:
        "../envs/analysis.yaml"
    params:
        studies=list(CLAIMS),
        tier=TIER,
        code=command_code("claims-summary"),
    shell:
        "python -m rnnmem claims-summary --claims {input.claims} --studies {params.studies} "
        "--tier {params.tier} --csv {output.csv} --md {output.md} > {log} 2>&1"


if CLAIMS:
    ALL_TARGETS.extend(rules.claims_summary.output)
