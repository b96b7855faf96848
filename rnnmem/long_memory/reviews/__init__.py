"""Review classification on the Spanish paper reviews (long-memory.md §11).

data.py       reviews.json -> cleaned texts, tokens, labels, the word2vec corpus, padded
              sequences, the fixed 282/50/50 split and the two time-major layouts
embed.py      deterministic word2vec (gensim) and the embedding file with its sidecar
params.py     the four models' parameters: names, shapes, counts, reference-identical init
models.py     the seed-batched forward pass and per-seed losses (all seeds in one graph; CUDA)
packed.py     the same, seed by seed on packed steps (the CPU), with recurrences.py (packing,
              the recurrences as autograd Functions with hand-written backward passes)
reference.py  the same equations per seed with torch modules (for the exactness tests)
metrics.py    test metrics: accuracy, macro precision / recall / F1, cross-entropy
train.py      the training loop (Adam + L2, fixed batches, model selection)
cost.py       a training job's work (multiply-adds), for the cost planner
"""
