"""Stand-in for macOS `plutil -lint FILE...` (plutil exists only on macOS): parse each file with plistlib."""

import plistlib
import sys

EX_USAGE = 64


def main(argv):
    if argv[:1] != ["-lint"] or not argv[1:]:
        print("stand-in plutil supports only: plutil -lint FILE...", file=sys.stderr)
        return EX_USAGE
    status = 0
    for path in argv[1:]:
        try:
            with open(path, "rb") as handle:
                plistlib.load(handle)
            print(f"{path}: OK")
        except Exception as exc:
            print(f"{path}: {exc}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
