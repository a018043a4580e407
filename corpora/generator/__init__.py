"""Synthetic corpus generator for cuishou: labelled debt-collection texts built from
hand-written fragments, with labels known by construction.

Run ``python -m corpora.generator --seed 0 --n 7000 -o corpora/data/generated.jsonl``.
"""
