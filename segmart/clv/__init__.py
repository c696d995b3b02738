"""Customer lifetime value: BG/NBD + Gamma-Gamma fits per source (fit.py), per-customer
scores (score.py), and the post-build step that reads the calibration summary from the
marts' intermediate layer and writes the results dbt reads as source ``clv`` (job.py)."""
