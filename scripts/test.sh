#!/usr/bin/env bash
# The project's test command (the README's second command): the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
exec uv run pytest "$@"
