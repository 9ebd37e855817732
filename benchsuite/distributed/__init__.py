"""Data parallel: the rank pool started by torchrun (torch.distributed.run) and the rank worker it runs."""
