#!/usr/bin/env bash
# `make mutation`: mutmut over the collection's Python code (plugins/) against the in-process unit suite.
# mutmut names a mutant by the module path of its file; the tests import the code as
# ansible_collections.hostnative.devpi.plugins..., so mutmut runs in a tree where the checkout sits at exactly that
# path (the committed files only). Prints the kill rate and the survivors; docs/testing.md explains them.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$repo/.cache/mutation"
tree="$work/ansible_collections/hostnative/devpi"
rm -rf "$work" && mkdir -p "$tree"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$tree")
cat > "$work/setup.cfg" <<'CFG'
[mutmut]
source_paths=ansible_collections/hostnative/devpi/plugins/
pytest_add_cli_args_test_selection=ansible_collections/hostnative/devpi/tests/unit/
also_copy=ansible_collections/hostnative/devpi/
CFG
cd "$work"
mutmut run > mutmut.log 2>&1 || { tail -n 20 mutmut.log; exit 1; }
mutmut results --all true > results.txt 2>&1 || true
python3 - "$work/results.txt" <<'PY'
import collections, re, sys
statuses = collections.Counter()
survivors = []
for line in open(sys.argv[1], encoding="utf-8"):
    match = re.match(r"^\s*(ansible_collections\.\S+): (\S.*)$", line)
    if match:
        statuses[match.group(2)] += 1
        if match.group(2) == "survived":
            survivors.append(match.group(1))
killed = statuses["killed"] + statuses["timeout"]
reached = killed + statuses["survived"]
print(f"mutants: {dict(statuses)}")
print(f"killed (of those the unit suite reaches): {killed}/{reached} = {killed / reached:.1%}" if reached else "none ran")
print("not reached in process ('no tests': modules and backends run as Ansible runs them, in tests/integration):")
unreached = collections.Counter()
for line in open(sys.argv[1], encoding="utf-8"):
    match = re.match(r"^\s*ansible_collections\.hostnative\.devpi\.plugins\.([\w.]+?)\.x.*: no tests$", line)
    if match:
        unreached[match.group(1)] += 1
for module, count in unreached.most_common():
    print(f"  {count:5d} {module}")
print("survivors:")
for name in survivors:
    print(f"  {name}")
PY
