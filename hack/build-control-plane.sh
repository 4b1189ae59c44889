#!/usr/bin/env bash
# Builds kube-apiserver, etcd and (optionally) kube-controller-manager for a pinned
# Kubernetes release with the Go toolchain, from the Go module proxy, into a cache
# outside the repository. Idempotent: binaries already in the cache are reused.
#
#   hack/build-control-plane.sh            # kube-apiserver + etcd
#   hack/build-control-plane.sh --with-kcm # also kube-controller-manager (side-by-side runs)
#
# Environment:
#   JOBCTL_ASSETS   a folder that already holds kube-apiserver and etcd (and, with
#                   --with-kcm, kube-controller-manager); nothing is built (like envtest's
#                   KUBEBUILDER_ASSETS).
#   JOBCTL_CACHE    cache root (default ~/.cache/jobctl)
#   K8S_VERSION     Kubernetes release (default v1.37.2)
#   ETCD_VERSION    etcd server release (default: the one that release's go.mod requires)
# Prints the folder holding the binaries on its last line of stdout.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
CACHE=${JOBCTL_CACHE:-$HOME/.cache/jobctl}
WITH_KCM=0
for arg in "$@"; do
  case "$arg" in
    --with-kcm) WITH_KCM=1 ;;
    *) echo "build-control-plane: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { echo "[build-control-plane] $*" >&2; }

wanted=(kube-apiserver etcd)
[ "$WITH_KCM" = 1 ] && wanted+=(kube-controller-manager)

if [ -n "${JOBCTL_ASSETS:-}" ]; then
  for b in "${wanted[@]}"; do
    if [ ! -x "$JOBCTL_ASSETS/$b" ]; then
      echo "build-control-plane: JOBCTL_ASSETS=$JOBCTL_ASSETS has no executable $b" >&2
      exit 1
    fi
  done
  echo "$JOBCTL_ASSETS"
  exit 0
fi

command -v go >/dev/null || { echo "build-control-plane: the Go toolchain (go) is not on PATH" >&2; exit 1; }

BIN="$CACHE/bin/$K8S_VERSION"
mkdir -p "$BIN"
missing=()
for b in "${wanted[@]}"; do [ -x "$BIN/$b" ] || missing+=("$b"); done
if [ "${#missing[@]}" = 0 ]; then
  log "cached: ${wanted[*]} in $BIN"
  echo "$BIN"
  exit 0
fi

export GOFLAGS=-mod=mod
export CGO_ENABLED=0
WORK="$CACHE/build/$K8S_VERSION"
mkdir -p "$WORK"
start=$(date +%s)

log "fetching k8s.io/kubernetes@$K8S_VERSION's go.mod"
KMOD=$(cd "$WORK" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
[ -f "$KMOD" ] || { echo "build-control-plane: could not download k8s.io/kubernetes@$K8S_VERSION" >&2; exit 1; }
STAGING_VERSION="v0.${K8S_VERSION#v1.}"
GO_VERSION=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$KMOD")
ETCD_VERSION=${ETCD_VERSION:-$(sed -n 's/^\s*go.etcd.io\/etcd\/server\/v3 \(v[0-9.]*\).*/\1/p' "$KMOD" | head -1)}

build_module() {  # dir, module-name, require-lines, replace-lines, packages...
  local dir=$1 name=$2 requires=$3 replaces=$4; shift 4
  mkdir -p "$dir"
  {
    echo "module $name"
    echo
    echo "go $GO_VERSION"
    echo
    echo "require ("
    echo "$requires"
    echo ")"
    if [ -n "$replaces" ]; then
      echo
      echo "replace ("
      echo "$replaces"
      echo ")"
    fi
  } > "$dir/go.mod"
  ( cd "$dir" && go mod download 2>&1 | sed 's/^/  /' >&2 || true )
  for pkg in "$@"; do
    local out="$BIN/$(basename "$pkg")"
    [ "$(basename "$pkg")" = v3 ] && out="$BIN/etcd"
    if [ -x "$out" ]; then continue; fi
    log "go build $pkg (this takes minutes on 2 cores)"
    ( cd "$dir" && go get "$pkg" >&2 && go build -trimpath -ldflags "-s -w" -o "$out.tmp" "$pkg" >&2 )
    mv "$out.tmp" "$out"
    log "built $out in $(( $(date +%s) - start ))s so far"
  done
}

need() { for m in "${missing[@]}"; do [ "$m" = "$1" ] && return 0; done; return 1; }

k8s_pkgs=()
need kube-apiserver && k8s_pkgs+=(k8s.io/kubernetes/cmd/kube-apiserver)
need kube-controller-manager && k8s_pkgs+=(k8s.io/kubernetes/cmd/kube-controller-manager)
if [ "${#k8s_pkgs[@]}" -gt 0 ]; then
  replaces=$(sed -n 's#^\s*\(k8s.io/[^ ]*\) => ./staging/src/.*#\t\1 => \1 '"$STAGING_VERSION"'#p' "$KMOD")
  log "kubernetes $K8S_VERSION with $(echo "$replaces" | wc -l) staging modules at $STAGING_VERSION, go $GO_VERSION"
  build_module "$WORK/kubernetes" jobctl.local/controlplane \
    "	k8s.io/kubernetes $K8S_VERSION" "$replaces" "${k8s_pkgs[@]}"
fi
if need etcd; then
  log "etcd $ETCD_VERSION"
  build_module "$WORK/etcd" jobctl.local/etcd \
    "	go.etcd.io/etcd/server/v3 $ETCD_VERSION" "" go.etcd.io/etcd/server/v3
fi
log "done in $(( $(date +%s) - start ))s: $(ls "$BIN" | tr '\n' ' ')"
echo "$BIN"
