"""Thin shim: `python main.py` starts the console; with no hub configured it embeds a demo hub."""

import sys

from console.app import main

if __name__ == "__main__":
    sys.exit(main())
