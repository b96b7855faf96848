"""The memory-distance study (docs/studies/memorization.md), one module per stage or concept.

task         the random memorization task: sequence lengths, data draws, evaluation
             sets and the inputs of the capacity probes
plan         the jobs of the config's grid, each job's settings and files, the config
             checks (read by the workflow)
job          TrainJob: one training job's settings, its models and their seed streams
readout      the study's readout (sum of the top layer's units at the last step), its
             L1 loss and the gradient that enters the engine's backward pass
train        train one job on the ensemble engine, one output file per seed
checkpoints  resume a killed training job with the same bytes
capacity     Jaeger memory capacity estimators (arrays in, numbers out)
probe        memory capacity of every trained (and initial) network of a job
esn          the echo state network baseline
aggregate    per-seed files -> runs, curves and summary tables
tables       the aggregated tables and what figures and claims derive from them
figures      Figs. 4/5, the loss histogram and the capacity figure; heatmaps: Figs. 6-9;
             plots: their shared drawing helpers; figure_list: the figures by file stem
claims       the paper's claims, checked: claims_training (1-3), claims_heatmaps (4-9),
             claims_variants (10-11), claims_capacity (9.3-9.4), claims_common
bench        the engine against one torch.nn model per run
"""
