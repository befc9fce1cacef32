#!/usr/bin/env bash
# Mutation testing of the core with mutmut 3 (pip install -e ".[test,mutation]" -c constraints.txt).
#
# What is mutated and which tests run is in pyproject.toml, [tool.mutmut]: explorer/plan.py, masks.py,
# cost.py, evaluation.py and the criteria's formula modules, against tests/test_core_units.py,
# test_plan_choices.py, test_exactness.py, test_criteria.py, test_attention.py and the explain cases of
# test_criterion_contract.py (mutmut first runs them once to learn which tests reach which function, then
# runs only those for each mutant, stopping at the first failure). All 1611 mutants take 15-25 min.
#
# One worker at low priority (the machines it runs on are shared); extra arguments go to `mutmut run`,
# e.g. `tools/mutation.sh "explorer.plan*"` for one module's mutants. The summary is printed at the end;
# `python -m mutmut show NAME` shows one mutant's diff. The work copy is mutants/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
nice -n 15 "$python" -m mutmut run --max-children 1 "$@"
"$python" -m mutmut results --all true > mutants/results.txt || "$python" -m mutmut results > mutants/results.txt
"$python" - <<'PY'
import collections, re
counts = collections.Counter()
for line in open("mutants/results.txt"):
    match = re.match(r"\s*(\S+): (.+)$", line)
    if match:
        counts[match.group(2).strip()] += 1
print(dict(counts))
PY
