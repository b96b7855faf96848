# The long-memory study's fetched data (the authors' released files), one rule per file.
#
# Keyed by content: the params Snakemake compares are the file's pinned sha256 and the code.
# Where the bytes come from (config long_memory.source) reaches the command through
# `source`, a function of the rule's output: Snakemake counts such params as derived and
# leaves them out of its params trigger, so a source spelled another way (or left out)
# replans nothing. The bytes are checked against the sha256 wherever they come from, and
# fetch.py keeps a verified copy in resources/long_memory/.sha256/ that a rerun restores.
from pathlib import Path

from rnnmem.long_memory.fetch import MANIFEST


def lm_fetch_source(wildcards, output):
    """The config's long_memory.source as the fetch's settings (not a rerun trigger)."""
    return settings_json(LM["source"])


for file, pinned in MANIFEST.items():

    rule:
        name:
            f"fetch_long_memory_{Path(file).stem}"
        output:
            f"{LM_RES}/{file}",
        log:
            f"{LM_LOG}/fetch_{Path(file).stem}.log",
        conda:
            "../../envs/analysis.yaml"
        params:
            name=file,
            sha256=pinned.sha256,
            source=lm_fetch_source,
            code=command_code("fetch-long-memory"),
        shell:
            "python -m rnnmem fetch-long-memory --name {params.name} "
            "--sha256 {params.sha256} --settings {params.source:q} --out {output} > {log} 2>&1"
