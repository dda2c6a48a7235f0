# Sourced by the scripts: finds Python 3.13 and builds the test venv (.venv) on first use.
# PYTHON overrides the interpreter; otherwise pyenv's 3.13.0, then python3.13 on PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

find_python() {
    if [[ -n "${PYTHON:-}" ]]; then echo "$PYTHON"; return; fi
    if command -v pyenv >/dev/null 2>&1; then
        local p; p="$(pyenv root)/versions/3.13.0/bin/python3.13"
        if [[ -x "$p" ]]; then echo "$p"; return; fi
    fi
    if command -v python3.13 >/dev/null 2>&1; then command -v python3.13; return; fi
    echo "error: Python 3.13 not found; set PYTHON=/path/to/python3.13" >&2
    exit 1
}

# pip, quiet, without its warnings about this machine's package index settings (such
# as "WARNING: Location 'file:///…' is ignored: it is neither a file nor a
# directory"): they are about the machine, not the project. Everything else pip
# prints goes to stderr, errors included, and pip's exit status is kept.
MIRROR_WARNING="^WARNING: Location '[^']*' is ignored: it is neither a file nor a directory\.\$"

pip_install() {
    local pip="$1"; shift
    local status=0
    "$pip" install --quiet --disable-pip-version-check "$@" 2>&1 \
        | sed -u -E "/$MIRROR_WARNING/d" >&2 || status=$?
    return "$status"
}

# Rebuild when the requirement files change (their hash is kept in the venv).
# requirements_demo.txt adds what a real `hass` needs (demo, e2e tests, bench).
ensure_venv() {
    local stamp; stamp="$(cat "$ROOT"/requirements_test.txt "$ROOT"/requirements_demo.txt \
        "$ROOT"/constraints/*.txt | sha256sum | cut -c1-16)"
    if [[ -x "$VENV/bin/python" && -f "$VENV/.stamp" && "$(cat "$VENV/.stamp")" == "$stamp" ]]; then
        return
    fi
    echo "Building the test environment in .venv: Home Assistant 2025.4.4 and the" \
        "test tools (first run only; a few minutes)…" >&2
    local started=$SECONDS
    rm -rf "$VENV"
    "$(find_python)" -m venv "$VENV"
    pip_install "$VENV/bin/pip" --upgrade pip
    pip_install "$VENV/bin/pip" -r "$ROOT/requirements_test.txt" \
        -r "$ROOT/requirements_demo.txt" \
        -c "$ROOT/constraints/homeassistant-2025.4.4.txt"
    echo "$stamp" > "$VENV/.stamp"
    echo ".venv is ready ($((SECONDS - started)) s)." >&2
}

# The add-on (mcp_addon/) has its own venv: mcp 2.x needs a newer pydantic than HA.
# The MCP Inspector CLI (npm) goes into it too, for the protocol-compatibility test,
# and each JSON-schema converter of tests_addon/converters/*.txt (HA 2025.4's and the
# newest voluptuous-openapi, which cannot share one site-packages) into a folder of
# its own, .venv-addon/converters/<name>, for tests_addon/test_ha_schemas.py.
ADDON_VENV="$ROOT/.venv-addon"
INSPECTOR="@modelcontextprotocol/inspector@0.15.0"

ensure_addon_venv() {
    local stamp; stamp="$( (cat "$ROOT"/mcp_addon/requirements.txt \
        "$ROOT"/mcp_addon/requirements_test.txt "$ROOT"/tests_addon/converters/*.txt; \
        echo "$INSPECTOR") | sha256sum | cut -c1-16)"
    if [[ ! -x "$ADDON_VENV/bin/python" || ! -f "$ADDON_VENV/.stamp" \
        || "$(cat "$ADDON_VENV/.stamp")" != "$stamp" ]]; then
        echo "Building the add-on environment in .venv-addon (first run only)…" >&2
        local started=$SECONDS
        rm -rf "$ADDON_VENV"
        "$(find_python)" -m venv "$ADDON_VENV"
        pip_install "$ADDON_VENV/bin/pip" --upgrade pip
        pip_install "$ADDON_VENV/bin/pip" -r "$ROOT/mcp_addon/requirements_test.txt"
        local converter
        for converter in "$ROOT"/tests_addon/converters/*.txt; do
            pip_install "$ADDON_VENV/bin/pip" --no-deps \
                --target "$ADDON_VENV/converters/$(basename "$converter" .txt)" \
                -r "$converter"
        done
        echo "$stamp" > "$ADDON_VENV/.stamp"
        echo ".venv-addon is ready ($((SECONDS - started)) s)." >&2
    fi
    if [[ ! -x "$ADDON_VENV/inspector/node_modules/.bin/mcp-inspector" ]] \
        && command -v npm >/dev/null 2>&1; then
        echo "Installing $INSPECTOR into .venv-addon/inspector…" >&2
        npm install --silent --no-audit --no-fund --prefix "$ADDON_VENV/inspector" \
            "$INSPECTOR" >&2 \
            || echo "warning: npm could not install $INSPECTOR" >&2
    fi
}
