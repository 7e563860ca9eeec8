#!/usr/bin/env bash
# The main job: deploy devpi onto a local container host and prove it serves.
#   tests/harness/demo.sh up    - start (or reuse) the container, run playbooks/site.yml, check, print how to use it
#   tests/harness/demo.sh down  - remove the container and its data
# Run through `make demo` / `make demo-down`, which install what this needs first.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
name=devpi-demo
image=localhost/hostnative-devpi-debian:12
port=${DEVPI_DEMO_PORT:-3141}
state="$root/.cache/demo"
secrets="$state/secrets.yml"
index="http://127.0.0.1:$port/root/pypi/+simple/"

up() {
  if ! podman container exists "$name"; then
    # Caddy listens on the container's port 8080; the host reaches it on its own loopback only.
    podman run -d --name "$name" --hostname "$name" --systemd=always -p "127.0.0.1:$port:8080" "$image" /sbin/init >/dev/null
  fi
  [ "$(podman inspect -f '{{.State.Running}}' "$name")" = true ] || podman start "$name" >/dev/null
  for _ in $(seq 1 60); do
    state_now=$(podman exec "$name" systemctl is-system-running 2>/dev/null || true)
    case "$state_now" in running | degraded) break ;; esac
    sleep 1
  done
  podman cp /etc/ssl/certs/ca-certificates.crt "$name:/etc/ssl/certs/ca-certificates.crt"

  # Random secrets, generated once, kept in a 0600 file that the `file` backend of the secret lookup reads
  # (inventories/demo/group_vars/devpi_servers.yml names it).
  mkdir -p "$state" && chmod 0700 "$state"
  if ! grep -q '^op://demo/devpi/root password:' "$secrets" 2>/dev/null; then
    (umask 077 && python3 - "$secrets" <<'PY'
import secrets, sys
with open(sys.argv[1], "w", encoding="utf-8") as out:
    out.write(f'op://demo/devpi/root password: "{secrets.token_urlsafe(24)}"\n')
    out.write(f'op://demo/devpi-demo/password: "{secrets.token_urlsafe(24)}"\n')
PY
    )
  fi

  ansible-playbook -i "$root/inventories/demo" "$root/playbooks/site.yml"
  ansible-playbook -i "$root/inventories/demo" "$root/playbooks/verify.yml"

  echo "--- checking devpi through the published port"
  curl -fsS -H 'Accept: application/json' "http://127.0.0.1:$port/+api" >/dev/null
  echo "http://127.0.0.1:$port/+api answers"
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  # A real pip (the one the standard library bundles), in a throwaway venv, talking to devpi only.
  python3 -m venv "$scratch/venv"
  "$scratch/venv/bin/pip" download --quiet --no-deps --no-cache-dir --disable-pip-version-check \
    --isolated --index-url "$index" --dest "$scratch/dl" idna
  echo "pip download through devpi worked: $(ls "$scratch/dl")"
  cat <<MSG

devpi is serving on this machine:
  index URL      $index
  web UI         http://127.0.0.1:$port/
  secrets        root's password and user demo's (index demo/dev) in $secrets (mode 0600)

Use it:
  pip install --index-url $index requests
  uv pip install --index-url $index requests
  export PIP_INDEX_URL=$index UV_DEFAULT_INDEX=$index
  pip download --no-deps --index-url $index idna   (what this script just did)

Re-run \`make demo\` any time (a quick no-op); \`make demo-down\` removes the container and its data.
MSG
}

down() {
  podman rm -f "$name" >/dev/null 2>&1 || true
  rm -f "$secrets"
  echo "removed $name and its data"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
