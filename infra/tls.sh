#!/usr/bin/env bash
# A development CA and per-host X.509 credentials for QEMU's encrypted migration stream (tls-creds-x509), made with
# Debian's openssl. Not for production: the CA key sits unencrypted beside its certificate.
#
#   infra/tls.sh ca CA_DIR
#       make a CA in CA_DIR (ca-cert.pem, ca-key.pem), or keep the one there.
#   infra/tls.sh host CA_DIR OUT_DIR NAME [NAME...]
#       make the credentials of one host in OUT_DIR, signed by the CA in CA_DIR (made first when missing), laid out as
#       QEMU's tls-creds-x509 reads a directory: ca-cert.pem, server-cert.pem, server-key.pem (the destination's side,
#       endpoint=server), client-cert.pem, client-key.pem (the source's side, endpoint=client). Both certificates name
#       the first NAME (CN) and carry every NAME, localhost and 127.0.0.1 as subject alternative names (an IPv4 or IPv6
#       address NAME becomes an IP SAN). The source checks the destination's certificate against the orchestrator's
#       name of the target host (QEMU's tls-hostname), so NAME is that host name.
#   infra/tls.sh dev [NAME...]
#       the development layout: a CA in <repo>/.data/tls/ca and, for each NAME (default: qemu-a qemu-b), its
#       credentials in <repo>/.data/tls/<NAME>/ (Qemu:TlsDirectory=<repo>/.data/tls serves every host of that list).
#
# Idempotent: credentials that exist, are signed by that CA, have not expired and name the same NAMEs are kept; others
# are made again. Keys are EC P-256 (fast to make; GnuTLS, which QEMU uses, accepts them).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
DAYS=3650

log() { printf '[tls] %s\n' "$*" >&2; }
die() { printf '[tls] %s\n' "$*" >&2; exit 2; }

command -v openssl >/dev/null || die "openssl is needed (apt-get install openssl)"

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; chmod 600 "$1"; }

make_ca() {
  local dir=$1
  mkdir -p "$dir"
  if [[ -s $dir/ca-cert.pem && -s $dir/ca-key.pem ]] && openssl x509 -in "$dir/ca-cert.pem" -noout -checkend 86400 >/dev/null; then
    return 0
  fi
  log "making a development CA in $dir"
  new_key "$dir/ca-key.pem"
  openssl req -x509 -new -key "$dir/ca-key.pem" -days "$DAYS" -sha256 -subj "/O=Orchestrator development/CN=Orchestrator development CA $(date -u +%Y%m%dT%H%M%S)-$RANDOM" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca-cert.pem" 2>/dev/null
}

# sans NAME...: the subjectAltName value for these names, localhost and 127.0.0.1.
sans() {
  local list=() name
  for name in "$@" localhost 127.0.0.1; do
    if [[ $name =~ ^[0-9]+(\.[0-9]+){3}$ || $name == *:* ]]; then list+=("IP:$name"); else list+=("DNS:$name"); fi
  done
  local IFS=,
  printf '%s' "${list[*]}"
}

# current CA_DIR OUT_DIR ROLE SANS: the role's certificate is there, signed by the CA, valid for a day more, same names.
current() {
  local ca=$1 out=$2 role=$3 want=$4
  [[ -s $out/$role-cert.pem && -s $out/$role-key.pem && -s $out/.names ]] || return 1
  [[ $(cat "$out/.names") == "$want" ]] || return 1
  cmp -s "$ca/ca-cert.pem" "$out/ca-cert.pem" || return 1
  openssl verify -CAfile "$ca/ca-cert.pem" "$out/$role-cert.pem" >/dev/null 2>&1 || return 1
  openssl x509 -in "$out/$role-cert.pem" -noout -checkend 86400 >/dev/null
}

# issue CA_DIR OUT_DIR ROLE PURPOSE CN SANS
issue() {
  local ca=$1 out=$2 role=$3 purpose=$4 cn=$5 san=$6 csr
  csr=$(mktemp)
  new_key "$out/$role-key.pem"
  openssl req -new -key "$out/$role-key.pem" -subj "/O=Orchestrator development/CN=$cn" -out "$csr" 2>/dev/null
  openssl x509 -req -in "$csr" -CA "$ca/ca-cert.pem" -CAkey "$ca/ca-key.pem" -CAcreateserial -days "$DAYS" -sha256 \
    -extfile <(printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment,keyAgreement\nextendedKeyUsage=%s\nsubjectAltName=%s\n' "$purpose" "$san") \
    -out "$out/$role-cert.pem" 2>/dev/null
  rm -f "$csr"
}

make_host() {
  local ca=$1 out=$2
  shift 2
  (( $# )) || die "usage: $0 host CA_DIR OUT_DIR NAME [NAME...]"
  make_ca "$ca"
  mkdir -p "$out"
  local san
  san=$(sans "$@")
  if current "$ca" "$out" server "$san" && current "$ca" "$out" client "$san"; then
    return 0
  fi
  log "credentials for $1 in $out ($san)"
  cp "$ca/ca-cert.pem" "$out/ca-cert.pem"
  issue "$ca" "$out" server serverAuth "$1" "$san"
  issue "$ca" "$out" client clientAuth "$1" "$san"
  printf '%s' "$san" > "$out/.names"
}

case ${1:-} in
  ca) (( $# == 2 )) || die "usage: $0 ca CA_DIR"; make_ca "$2" ;;
  host) (( $# >= 4 )) || die "usage: $0 host CA_DIR OUT_DIR NAME [NAME...]"; make_host "${@:2}" ;;
  dev)
    shift
    (( $# )) || set -- qemu-a qemu-b
    for name in "$@"; do make_host "$REPO/.data/tls/ca" "$REPO/.data/tls/$name" "$name"; done
    log "Qemu:TlsDirectory=$REPO/.data/tls"
    ;;
  *) die "usage: $0 ca CA_DIR | host CA_DIR OUT_DIR NAME [NAME...] | dev [NAME...]" ;;
esac
