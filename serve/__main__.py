"""`python -m serve` runs the cuishou CLI."""

from serve.cli import main

main()
