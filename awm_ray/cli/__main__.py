"""`python -m awm_ray.cli ...` is `awm-ray ...`."""

import sys

from awm_ray.cli import main

if __name__ == "__main__":
    sys.exit(main())
