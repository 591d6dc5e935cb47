"""Run every benchmark in bench/ in turn (make bench). Each prints its own figures."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for script in sorted(HERE.glob("*.py")):
    if script.name.startswith("_") or script.name == "run.py":
        continue
    print(f"\n=== {script.name}", flush=True)
    subprocess.run([sys.executable, str(script), *sys.argv[1:]], check=False)
