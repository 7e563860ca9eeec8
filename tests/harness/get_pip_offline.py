"""Stand-in for pypa's get-pip.py, for ansible-test on hosts that cannot reach ci-files.testing.ansible.com.

ansible-test bootstraps pip into each of its sanity venvs by running a cached get-pip.py
(~/.ansible/test/cache/get_pip_<version>.py). get-pip.py does two things: bring up a pip from its embedded copy,
then run ``pip install --upgrade --force-reinstall <args>`` (plus setuptools and wheel unless --no-setuptools /
--no-wheel). This does the same with the pip the standard library bundles (ensurepip) instead of an embedded one;
the requested pip version itself still comes from the package index. tests/harness/sanity.sh installs it.

ansible-test runs this with a filtered environment (no PIP_CERT / SSL_CERT_FILE), so behind a TLS-intercepting
proxy the host's CA bundle is recorded in the venv's own pip.conf, which every later pip call in that venv reads.
sanity.sh fills CA_BUNDLE in from the host's environment; empty means pip's default trust.
"""

import ensurepip
import os
import sys

CA_BUNDLE = ""


def main():
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    extras = []
    if "--no-setuptools" not in sys.argv:
        extras.append("setuptools")
    if "--no-wheel" not in sys.argv:
        extras.append("wheel")
    if CA_BUNDLE:
        with open(os.path.join(sys.prefix, "pip.conf"), "w", encoding="utf-8") as handle:
            handle.write(f"[global]\ncert = {CA_BUNDLE}\n")
    saved = dict(os.environ)
    ensurepip.bootstrap(upgrade=False, default_pip=False)
    # ensurepip points PIP_CONFIG_FILE at /dev/null in this process; pip must read its config files again.
    os.environ.clear()
    os.environ.update(saved)
    from pip._internal.cli.main import main as pip_main  # noqa: PLC0415 - pip exists only after the bootstrap

    return pip_main(["install", "--upgrade", "--force-reinstall", *args, *extras])


if __name__ == "__main__":
    sys.exit(main())
