"""Exports the latest training checkpoint to a scratch model folder for benchmark development,
without touching packages/backends-gan (export.py's golden fixture goes to the scratch folder too).

    python3 scripts/export_checkpoint.py OUT_DIR
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tools", "export"))
import export  # noqa: E402

out = os.path.abspath(sys.argv[1])
export.FIXTURES = os.path.join(out, "fixtures")
sys.argv = ["export.py", "default", "--out", out]
export.main()
