import sys

from hiaim_monitor.cli import main

sys.exit(main())
