#!/bin/sh
# Creates the influencegen system user the systemd unit runs as.
set -e
if ! getent group influencegen >/dev/null; then
  groupadd --system influencegen
fi
if ! getent passwd influencegen >/dev/null; then
  useradd --system --gid influencegen --home-dir /var/lib/influencegen \
    --shell /usr/sbin/nologin --comment "InfluenceGen Studio" influencegen
fi
