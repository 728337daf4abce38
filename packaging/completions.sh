#!/bin/sh
# Writes the shell completions goreleaser puts in the archives and packages.
set -e
rm -rf completions
mkdir completions
for sh in bash zsh fish; do
  go run . completion "$sh" > "completions/influencegen.$sh"
done
