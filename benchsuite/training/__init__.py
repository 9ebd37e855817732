"""One run: build the model, optimizer, schedule and precision from a case; serve batches; the training loop (timed
segments, untimed evaluation); the ranks of a data-parallel run; paired step timing; the outcome and the record of a
run.
"""
