#!/usr/bin/env bash
# Rebuilds the artifacts the dbt collector's tests read, from a real dbt run on DuckDB.
# dbt-core stays below 1.12: 1.12's install downloads a binary from outside the registry.
# DBT_VENV: where dbt is (or gets) installed; DBT_ARTIFACTS_OUT: where the artifacts go.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${DBT_VENV:-$here/.venv}
if [ ! -x "$venv/bin/dbt" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "dbt-core~=1.11.0" "dbt-duckdb~=1.11.0"
fi
export DBT_SEND_ANONYMOUS_USAGE_STATS=false DBT_PROFILES_DIR="$here"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SHOP_DUCKDB="$work/shop.duckdb"
"$venv/bin/python" "$here/make_raw_tables.py" "$SHOP_DUCKDB"
cd "$here"
# build exits 1 because two nodes fail on purpose.
"$venv/bin/dbt" build --target-path "$work/target" --log-path "$work/logs" || true
cp "$work/target/run_results.json" "$work/build_run_results.json"
"$venv/bin/dbt" source freshness --target-path "$work/target" --log-path "$work/logs" || true
out=${DBT_ARTIFACTS_OUT:-$here/../fixtures/dbt_target}
mkdir -p "$out"
# The machine's paths (dbt records where it ran) are nothing the collector reads: keep them out.
sed -e "s#$work/##g" -e "s#$here/##g" -e "s#$here##g" "$work/build_run_results.json" > "$out/run_results.json"
cp "$work/target/sources.json" "$out/sources.json"
cp "$work/target/manifest.json" "$out/manifest.json"
echo "artifacts written to $out"
