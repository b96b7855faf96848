"""The long-memory study (spec/long-memory.md): MRNN/MLSTM and baselines on long-memory series."""
