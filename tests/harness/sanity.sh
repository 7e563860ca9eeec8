#!/usr/bin/env bash
# ansible-test sanity needs the collection at .../ansible_collections/<namespace>/<name>: run it on a copy of the
# files git knows about (tracked, or new and not ignored), so caches and the venv stay out.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

# ansible-test itself runs from a venv holding its own pinned sanity requirements (same ansible-core as the
# project venv), built with uv.
venv="$root/.cache/sanity-venv"
core=$("$root/.venv/bin/python" -c 'import ansible; print(ansible.__version__)')
if [ "$("$venv/bin/python" -c 'import ansible; print(ansible.__version__)' 2>/dev/null)" != "$core" ]; then
  reqs="$root/.venv/lib/python3.11/site-packages/ansible_test/_data/requirements"
  uv venv -q --allow-existing --python "$root/.venv/bin/python" "$venv"
  args=()
  for t in ansible-doc changelog import pep8 pylint runtime-metadata validate-modules yamllint; do
    args+=(-r "$reqs/sanity.$t.txt")
  done
  uv pip install -q --python "$venv" "ansible-core==$core" "${args[@]}"
fi
tree="$root/.cache/sanity/ansible_collections/hostnative/devpi"
rm -rf "$tree" && mkdir -p "$tree"
(cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents -P {} "$tree/")
# The sanity venvs bootstrap pip from a get-pip.py that this network cannot download; put the stdlib-based
# stand-in where ansible-test looks first (see get_pip_offline.py), named for the pip version it pins.
pip_version=$("$root/.cache/sanity-venv/bin/python" - <<'PY'
from types import SimpleNamespace
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(SimpleNamespace(version="3.11"))["pip"])
PY
)
mkdir -p ~/.ansible/test/cache
ca_bundle=${PIP_CERT:-${SSL_CERT_FILE:-}}
sed "s|^CA_BUNDLE = \"\"|CA_BUNDLE = \"$ca_bundle\"|" "$root/tests/harness/get_pip_offline.py" \
  >~/.ansible/test/cache/"get_pip_${pip_version//./_}.py"
cd "$tree"
# ansible-test lists files with git when it finds a repository; give the copy one of its own.
git init -q && git add -A
exec "$root/.cache/sanity-venv/bin/ansible-test" sanity --color no --python 3.11 "$@"
