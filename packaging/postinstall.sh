#!/bin/sh
# Lets systemd see the unit; the service is not started until an admin has
# added users (influencegen team add) and runs: systemctl enable --now influencegen
set -e
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
