# rnnmem: reproduce three studies on the memory of recurrent networks.
# Thin by design: the science is in the rnnmem package; rules only wire files together.
from snakemake.utils import min_version

from rnnmem.core.settings import validate

min_version("9.0")


# The default tier, unless tier files are given with --configfile: a tier file is complete,
# so nothing of the default tier leaks into it. `--config key=value` overrides apply on top
# of either (Snakemake merges them after the config files).
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


validate(config, "config")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/memorization.smk"
include: "workflow/rules/forgetting.smk"
include: "workflow/rules/long_memory.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        ALL_TARGETS,
