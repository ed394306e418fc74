#!/bin/sh
# The same release gate as the Makefile, as a CI step. Environment: TINTO ROOT REPO PACKAGE
# LAYOUT LAYOUT_KEY LINKS OUT (see the Makefile). Exits non-zero, and publishes nothing, unless
# both gates allow.
set -eu
TINTO=${TINTO:-tinto}
"$TINTO" intoto verify -l "$LAYOUT" -k "$LAYOUT_KEY" -t "${KEY_TYPE:-ed25519}" --link-dir "$LINKS"
"$TINTO" verify --root "$ROOT" --repo "$REPO" --out "$OUT" "$PACKAGE"
echo "release gate passed: $OUT/$PACKAGE"
