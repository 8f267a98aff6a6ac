#!/usr/bin/env bash
# The project's test command: installs what is missing, then lints, type-checks,
# checks import boundaries and runs the test suite. Extra arguments go to pytest,
# e.g. `bash tests/run.sh -m "not slow" -x`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

UV_VERSION="0.13.9"
# Debian packages: what Qt needs to render offscreen (fonts-dejavu-core so text is not
# boxes), python3-venv for a pinned uv beside Debian's own python3 (which has no pip), and
# binutils for the binary's build in tests/test_binary.py (PyInstaller needs objdump; the
# spec assembles the lean ICU data library with as and ld, and strips with strip),
# valgrind for the performance gate's instruction counts (tests/test_perf_gate.py), and
# chromium for tests/test_notebook_browser.py, which runs the notebook widgets' front end
# in headless Chromium (it skips without it; chromium and chromium-common are 113 MB),
# and Xvfb with the xcb libraries of a desktop for the binary's real X11 window test.
QT_DEBS=(libegl1 libgl1 libfontconfig1 libglib2.0-0 libdbus-1-3 libxkbcommon0 fonts-dejavu-core
         python3-venv binutils valgrind chromium
         xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
         libxcb-render-util0 libxcb-shape0 libxkbcommon-x11-0)
# PyInstaller bundles the shared libpython, which Debian ships apart from its python3
if [[ -x /usr/bin/python3 ]]; then
    QT_DEBS+=("libpython$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')")
fi
# A real Prometheus for the metrics integration test: Debian's package, unpacked into
# .cache/ and never installed, because installing it enables and starts a daemon on :9090.
PROMETHEUS_DIR=".cache/prometheus"

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

# (b) uv, pinned: the one on PATH if it is this version, else its own venv in .uv/
if command -v uv >/dev/null 2>&1 && [[ "$(uv --version 2>/dev/null)" == "uv ${UV_VERSION}"* ]]; then
    UV=(uv)
else
    if [[ ! -x .uv/bin/uv ]] || [[ "$(.uv/bin/uv --version 2>/dev/null)" != "uv ${UV_VERSION}"* ]]; then
        banner "uv ${UV_VERSION} in .uv/"
        rm -rf .uv
        python3 -m venv .uv
        .uv/bin/python -m pip install --quiet --disable-pip-version-check "uv==${UV_VERSION}"
    fi
    UV=(.uv/bin/uv)
fi

# (b2) Prometheus, unpacked (see PROMETHEUS_DIR above); the test skips without it
if [[ ! -x "${PROMETHEUS_DIR}/usr/bin/prometheus" ]] && command -v apt-get >/dev/null 2>&1; then
    banner "unpack Debian's prometheus into ${PROMETHEUS_DIR} (not installed: no service)"
    download="$(mktemp -d)"
    if (cd "$download" && apt-get download prometheus >/dev/null 2>&1); then
        mkdir -p "$PROMETHEUS_DIR"
        dpkg-deb -x "$download"/prometheus_*.deb "$PROMETHEUS_DIR"
    else
        echo "could not download Debian's prometheus: the Prometheus integration test will skip"
    fi
    rm -rf "$download"
fi
if [[ -x "${PROMETHEUS_DIR}/usr/bin/prometheus" ]]; then
    export PROMETHEUS_BIN="$PWD/${PROMETHEUS_DIR}/usr/bin/prometheus"
    export PROMTOOL_BIN="$PWD/${PROMETHEUS_DIR}/usr/bin/promtool"
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

# (e) the compiled build (mypyc, docs/performance.md): built into .cache/compiled/venv,
# its test run, and its CLI outputs diffed with the pure build's
banner "compiled build check (tests/compiled_check.py)"
run python tests/compiled_check.py
