"""The end of `make mutants`: the score of the mutants that were run, then every one that was not
killed, with its diff. Usage: mutants_report.py GLOB... (the Makefile's MUTANTS).

Only mutants matching the globs count: mutmut generates mutants for every function of the files it
mutates, and those of functions not run would show as "not checked". Reads mutmut's own commands
(`mutmut results`, `mutmut show`), so it needs nothing but the mutants/ folder of the last run.
"""

import fnmatch
import subprocess
import sys
from collections import Counter
from pathlib import Path

MUTMUT = str(Path(sys.executable).with_name("mutmut"))


def results(globs: list[str]) -> dict[str, str]:
    """Status of every mutant matching ``globs``: killed, survived, no tests, timeout..."""
    lines = subprocess.run([MUTMUT, "results", "--all", "true"], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    statuses = {}
    for line in lines:
        name, _, status = line.strip().rpartition(": ")
        if name and any(fnmatch.fnmatch(name, pattern) for pattern in globs):
            statuses[name] = status
    return statuses


def main(globs: list[str]) -> int:
    statuses = results(globs)
    if not statuses:
        print("mutants: no results; run `make mutants` first")
        return 1
    counts = Counter(statuses.values())
    if counts["not checked"] == len(statuses):
        print("mutants: none was checked; the run stopped before the mutants (see its output above)")
        return 1
    checked = len(statuses) - counts["not checked"]
    # Number order within a function (mutmut_2 before mutmut_10), so the list reads like the source.
    left = sorted((name for name, status in statuses.items() if status not in ("killed", "not checked")),
                  key=lambda name: (name.rpartition("__mutmut_")[0], int(name.rpartition("_")[2])))
    for name in left:
        print(subprocess.run([MUTMUT, "show", name], capture_output=True, text=True, check=True).stdout.rstrip())
        print()
    summary = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()) if status != "killed")
    print(f"mutants: killed {counts['killed']} of {checked} ({100 * counts['killed'] / max(checked, 1):.1f}%)"
          + (f"; {summary}" if summary else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
