"""``python -m iexec_kit.cli`` = ``iexec-kit``."""

from iexec_kit.cli import main

main()
