#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# quickstart.sh - from a fresh Debian 12 / Ubuntu checkout to a working demo:
# install the build dependencies, build everything in ./build, and run the
# end-to-end demo on a throwaway SoftHSM token. Safe to run again.
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
sh tools/test.sh --build-only
sh tools/demo.sh "$(pwd)/build"
