"""The labelled extraction test set (amounts, deadlines, overdue days); see build_testset.py."""
