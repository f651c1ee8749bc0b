"""``python -m aiready`` runs the CLI."""

from aiready.cli import main

main()
