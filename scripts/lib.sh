# Shared by scripts/start and scripts/test: Debian packages and the project's virtualenv.
# Sourced, not run. Expects the working directory to be the repository root.

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1

VENV="${KONTOR_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
_apt_updated=""

say() { printf '\n== %s\n' "$*"; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

is_root() { [ "$(id -u)" = 0 ]; }

# Packages of the list that are not installed yet.
missing_debian_packages() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            printf '%s ' "$pkg"
    done
}

# Installs the Debian packages that are missing; as a non-root user, says what to install.
ensure_debian_packages() {
    command -v dpkg-query >/dev/null || return 0 # not Debian: the caller checks for the tools
    local missing
    missing="$(missing_debian_packages "$@")"
    [ -z "$missing" ] && return 0
    if ! is_root; then
        die "missing Debian packages: ${missing}
       install them once with: sudo apt-get install -y ${missing}"
    fi
    say "installing Debian packages: ${missing}"
    if [ -z "$_apt_updated" ]; then
        apt-get update -q || die "apt-get update failed"
        _apt_updated=1
    fi
    # shellcheck disable=SC2086  # one word per package
    apt-get install -y -q --no-install-recommends $missing </dev/null ||
        die "apt-get install ${missing} failed"
}

# What the install depends on: pyproject.toml (dependencies and their pins), the extras
# and the interpreter. Stored in the virtualenv after an install, so that a restart with
# nothing changed skips pip (about 10 s) and starts in a few seconds.
install_fingerprint() {
    { cat pyproject.toml; printf '%s\n' "$1"; "$VENV/bin/python" --version; } 2>&1 | sha256sum | cut -d' ' -f1
}

# Creates the virtualenv (once) and installs the project into it with the given extras,
# unless the same install already happened (see install_fingerprint).
# Debian's python3 has neither venv's ensurepip nor pip until python3-venv is installed.
ensure_venv() {
    local extras="$1"
    command -v "$PYTHON" >/dev/null || die "no ${PYTHON} on PATH: Kontor needs Python 3.11 or newer"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        die "$("$PYTHON" --version 2>&1) is too old: Kontor needs Python 3.11 or newer"
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
        rm -rf "$VENV"
        if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
            rm -rf "$VENV"
            ensure_debian_packages python3-venv
            "$PYTHON" -m venv "$VENV" || die "could not create the virtualenv ${VENV}"
        fi
    fi
    # One stamp per set of extras: scripts/start ("") and scripts/test ("[test]") share a venv.
    local stamp="$VENV/.kontor-installed${extras//[^a-z]/-}" fingerprint
    fingerprint="$(install_fingerprint "$extras")"
    if [ "$(cat "$stamp" 2>/dev/null)" = "$fingerprint" ] &&
        "$VENV/bin/python" -c 'import kontor' 2>/dev/null; then
        say "Kontor is installed in ${VENV} (pyproject.toml unchanged)"
        return 0
    fi
    rm -f "$stamp"
    say "installing Kontor and its pinned dependencies into ${VENV}"
    "$VENV/bin/python" -m pip install -q -e ".${extras}" || die "pip install failed"
    printf '%s\n' "$fingerprint" >"$stamp"
}

# Installs the front-end libraries that package-lock.json pins (npm ci into node_modules,
# which kontor.web.npm serves as static files), unless that very lockfile is installed
# already. Node.js and npm come from Debian's packages.
ensure_npm_assets() {
    command -v npm >/dev/null || ensure_debian_packages nodejs npm
    command -v npm >/dev/null || die "no npm on PATH: Kontor's front-end libraries need Node.js and npm"
    local stamp="node_modules/.kontor-installed" fingerprint
    fingerprint="$(sha256sum package-lock.json | cut -d' ' -f1)"
    [ "$(cat "$stamp" 2>/dev/null)" = "$fingerprint" ] && return 0
    say "installing the front-end libraries pinned in package-lock.json (npm ci)"
    # No install scripts: the packages are static files, nothing of theirs needs to run.
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error || die "npm ci failed"
    printf '%s\n' "$fingerprint" >"$stamp"
}
