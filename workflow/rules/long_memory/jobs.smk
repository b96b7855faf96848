# The long-memory study's config and plan (rnnmem/long_memory/plan.py computes every job,
# its settings and files; the rule files only loop over them). Read by long_memory.smk,
# long_memory/fetch.smk and long_memory/reviews.smk.
import json

from snakemake.exceptions import WorkflowError

from rnnmem.long_memory import plan as lm_plan

LM = study_config("long_memory")
# Cross-key checks the schema cannot express, each naming its key: a job would otherwise
# find them only when it runs, after Snakemake has removed its earlier outputs.
LM_PROBLEMS = lm_plan.config_problems(LM)
if LM_PROBLEMS:
    raise WorkflowError("\n".join(LM_PROBLEMS))

LM_OUT = lm_plan.OUT
LM_RES = lm_plan.RESOURCES
LM_LOG = lm_plan.LOGS
lm_series_file = lm_plan.series_file

# Time series: the experiments as views on training jobs, the jobs, the training rules.
LM_VIEWS = lm_plan.views(LM)
LM_JOBS = lm_plan.training_jobs(LM, TIER_NAME)
LM_TRAIN_RULES = lm_plan.train_rules(LM)
LM_FIGURES = lm_plan.figures(LM)
# The claims read the time-series runs and the review runs, of whichever was run.
LM_CLAIMS_INPUTS = lm_plan.claims_inputs(LM)


def lm_figure(stem):
    """A figure's PNG as a report item, captioned by its kind (the stem's first part)."""
    return report(
        f"{LM_OUT}/{stem}.png",
        caption=f"../report/long_memory/{stem.split('_')[0]}.rst",
        category="Long memory",
        subcategory="Figures",
    )


# Review classification (its rules: long_memory/reviews.smk).
LMR = LM["reviews"]
LMR_OUT = lm_plan.REVIEWS_OUT
LMR_REVIEWS = lm_plan.REVIEWS_FILE
LMR_EMBEDDINGS = lm_plan.EMBEDDINGS
LMR_JOBS = lm_plan.review_jobs(LM)
