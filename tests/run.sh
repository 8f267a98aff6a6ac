#!/usr/bin/env bash
# The project's test command: installs what is missing, then lints, type-checks,
# checks import boundaries and runs the test suite. Extra arguments go to pytest,
# e.g. `bash tests/run.sh -m "not slow" -x`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

UV_VERSION="0.13.9"
# Debian packages: what Qt needs to render offscreen (fonts-dejavu-core so text is not
# boxes), and a real Prometheus server for the metrics integration test.
QT_DEBS=(libegl1 libgl1 libfontconfig1 libglib2.0-0 libdbus-1-3 libxkbcommon0 fonts-dejavu-core
         prometheus)

banner() {
    printf '\n==> %s\n' "$*"
}

# (a) system libraries for offscreen Qt
if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    missing=()
    for pkg in "${QT_DEBS[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        banner "apt-get install ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update
        apt-get install -y --no-install-recommends "${missing[@]}"
    fi
fi

# (b) uv
if command -v uv >/dev/null 2>&1; then
    UV=(uv)
else
    banner "pip install uv==${UV_VERSION}"
    python3 -m pip install --quiet "uv==${UV_VERSION}" \
        || python3 -m pip install --quiet --break-system-packages "uv==${UV_VERSION}"
    # `python3 -m uv` works even when pip's script folder is not on PATH.
    UV=(python3 -m uv)
fi

# (c) the locked environment in .venv
banner "uv sync --locked --all-extras"
"${UV[@]}" sync --locked --all-extras

# (d) checks; --no-sync keeps `uv run` from touching the environment synced above
run() {
    "${UV[@]}" run --no-sync "$@"
}

banner "ruff check ."
run ruff check .

banner "mypy engine (strict) and explorer"
run mypy engine
run mypy explorer

banner "lint-imports"
run lint-imports

banner "pytest $*"
export QT_QPA_PLATFORM=offscreen
run pytest "$@"
