"""``make bench``: performance figures as ratios, one module per scenario (see ``run.py``)."""
