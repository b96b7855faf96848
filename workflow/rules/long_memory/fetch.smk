# The long-memory study's fetched data (the authors' released files), one rule per file.


for name, remote in LM_FETCHED.items():

    rule:
        name:
            f"fetch_long_memory_{name}"
        output:
            f"{LM_RES}/{Path(remote).name}",
        log:
            f"{LM_LOG}/fetch_{name}.log",
        conda:
            "../../envs/analysis.yaml"
        params:
            name=Path(remote).name,
            url=f"{LM['source']['base_url']}/{remote}",
            mirror=lm_mirror_option(),
            timeout=LM["source"]["timeout"],
            code=command_code("fetch-long-memory"),
        shell:
            "python -m rnnmem fetch-long-memory --name {params.name} --url {params.url:q} "
            "--out {output} --timeout {params.timeout} "
            "{params.mirror} > {log} 2>&1"
