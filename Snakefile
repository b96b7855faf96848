# rnnmem: reproduce three studies on the memory of recurrent networks.
# Thin by design: the science is in the rnnmem package; rules only wire files together.
from snakemake.utils import min_version, validate

min_version("9.0")


# The default tier, unless a tier is named with --configfile (tier files are complete, so
# nothing of the default tier leaks into them).
if not config:

    configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/memorization.smk"
include: "workflow/rules/forgetting.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        ALL_TARGETS,
