#!/usr/bin/env bash
# Print the path of a working Python 3.10 (TFX 1.16 needs 3.9 or 3.10):
# python3.10 on PATH if it runs, else one installed by pyenv.
set -euo pipefail
if python3.10 -c 'import sys' >/dev/null 2>&1; then
  command -v python3.10
  exit 0
fi
pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for candidate in "$pyenv_root"/versions/3.10*/bin/python3.10; do
  if [ -x "$candidate" ] && "$candidate" -c 'import venv' 2>/dev/null; then
    echo "$candidate"
    exit 0
  fi
done
cat >&2 <<'MSG'
error: no Python 3.10 found (TFX 1.16 needs Python 3.9 or 3.10).
fix: install one, then run make again, e.g.
  pyenv install 3.10.13                      # with pyenv
  sudo apt-get install python3.10-venv       # on Debian or Ubuntu
MSG
exit 1
