# Report assembly lives here (snakemake --report); studies register their outputs with
# report() in their own rule files.
