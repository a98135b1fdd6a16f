"""Training: config, loop, checkpoints, DDP."""
