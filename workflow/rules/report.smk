# Across studies: every claim of every enabled study in one table and one page, and the
# reproduction report (every published number beside the reproduced one, with the claims).
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


rule reproduction_report:
    input:
        [f for pair in COMPARISONS.values() for f in pair],
        [comparison.replace(".csv", ".md") for comparison, _ in COMPARISONS.values()],
    output:
        md=report(
            "results/reproduction.md",
            caption="../report/reproduction.rst",
            category="Reproduction",
        ),
        provenance="results/reproduction.md.provenance.json",
    log:
        "logs/reproduction_report.log",
    conda:
        "../envs/analysis.yaml"
    params:
        studies=" ".join(
            f"--study {label} {comparison} {claims}"
            for label, (comparison, claims) in COMPARISONS.items()
        ),
        tier=TIER,
        code=command_code("reproduction-report"),
    shell:
        "python -m rnnmem reproduction-report {params.studies} --tier {params.tier} "
        "--out {output.md} > {log} 2>&1"


if COMPARISONS:
    ALL_TARGETS.extend(rules.reproduction_report.output)
