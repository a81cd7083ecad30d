import sys

from viberator_worker.cli import main

sys.exit(main())
