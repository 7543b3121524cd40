#!/usr/bin/env bash
# Adds a migration NAME for both providers (SQLite and PostgreSQL) from the current model.
set -euo pipefail
name=${1:?usage: scripts/add-migration.sh NAME}
cd "$(dirname "$0")/.."
dotnet tool restore >/dev/null
for p in Sqlite Postgres; do
  dotnet ef migrations add "$name" --project src/Lien.Server --context "${p}LienDb" \
    --output-dir "Storage/Migrations/$p" --namespace "Lien.Server.Storage.Migrations.$p"
  # dotnet-ef writes the model snapshot by namespace; keep it beside the migrations.
  if [ -f "src/Lien.Server/Lien/Server/Storage/Migrations/$p/${p}LienDbModelSnapshot.cs" ]; then
    mv "src/Lien.Server/Lien/Server/Storage/Migrations/$p/${p}LienDbModelSnapshot.cs" "src/Lien.Server/Storage/Migrations/$p/"
  fi
done
rm -rf src/Lien.Server/Lien
