import json
from datetime import timedelta
from pathlib import Path

import pytest

from statusgen.collectors import BUILTIN
from statusgen.config import json_schema, load_config, parse_duration
from statusgen.errors import ConfigError

VALID = """
    site:
      title: Shop data
      timezone: Europe/Paris
    connections:
      warehouse:
        type: sql
        database: wh.duckdb
    sources:
      - id: orders
        connection: warehouse
        query: SELECT max(loaded_at) FROM orders
        freshness: {warn_after: 2h, error_after: 1d}
    components:
      - id: orders
        name: Orders
        group: Sales
        depends_on: [orders]
"""


def problems(path, environ=None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ or {})
    assert caught.value.exit_code == 2
    return [str(p) for p in caught.value.problems]


def test_valid_config_loads_with_paths_relative_to_the_file(write_config, tmp_path):
    config = load_config(write_config(VALID), {})
    source = config.sources[0]
    assert source.freshness.promise(config.site.zone).warn_after == timedelta(hours=2)
    assert config.connections["warehouse"].database.resolve() == tmp_path / "wh.duckdb"
    assert config.history.path.resolve() == tmp_path / "history"
    assert [c.id for c in config.components] == ["orders"]


def test_every_problem_is_reported_at_once_with_file_line_and_field(write_config):
    path = write_config(
        """
        site:
          timezon: Europe/Paris
        connections:
          wh:
            type: sql
            database: w.duckdb
          other:
            type: dbtt
        sources:
          - id: a
            connection: wh
            query: select 1
            freshness: {warn_after: 10 minutes}
          - id: a
            connection: whh
          - id: b
            conection: wh
        components:
          - id: c
            name: C
            depends_on: [a, zz]
        """
    )
    assert problems(path) == [
        "sources.yaml:2:3: site.timezon: unknown key 'timezon' (did you mean 'timezone'?)",
        "sources.yaml:8:5: connections.other.type: unknown connection type 'dbtt' (did you mean 'dbt'?)",
        "sources.yaml:13:17: sources[0].freshness.warn_after: expected a duration like 90s, 15m, 2h or 1d, found '10 minutes'",
        "sources.yaml:14:5: sources[1].query: required",  # checked as a source of 'wh', the connection it most likely means
        "sources.yaml:14:5: sources[1].id: duplicate id 'a'",
        "sources.yaml:15:5: sources[1].connection: no connection named 'whh' (did you mean 'wh'?)",
        "sources.yaml:16:5: sources[2].connection: required",
        "sources.yaml:17:5: sources[2].conection: unknown key 'conection' (did you mean 'connection'?)",
        "sources.yaml:21:21: components[0].depends_on[1]: no source with id 'zz'",
    ]


def test_a_source_or_connection_that_cannot_be_matched_to_a_collector_still_has_its_other_fields_checked(write_config):
    """One run lists every problem: a wrong connection name or type no longer hides the
    source's key typos and bad durations until it is fixed."""
    path = write_config(
        """
        connections:
          wh: {type: sql, database: wh.duckdb}
          shop_dbt: {type: dbt, target_dir: target}
          other: {type: dbtt, timeout: 2 hourz, targte_dir: target}
        sources:
          - id: orders
            connection: warehouse
            querry: SELECT max(loaded_at) FROM orders
            freshness: {warn_after: 2 hourz}
          - id: revenue
            connection: somewhere
            nod: model.shop.revenue
            freshness: {error_after: soon}
          - id: Bad Id
            connection: other
        """
    )
    assert problems(path) == [
        "sources.yaml:4:11: connections.other.type: unknown connection type 'dbtt' (did you mean 'dbt'?)",
        "sources.yaml:4:23: connections.other.timeout: expected a duration like 90s, 15m, 2h or 1d, found '2 hourz'",
        "sources.yaml:4:41: connections.other.targte_dir: unknown key 'targte_dir' (did you mean 'target_dir'?)",
        "sources.yaml:6:5: sources[0].query: required",
        "sources.yaml:7:5: sources[0].connection: no connection named 'warehouse' (did you mean 'wh'?)",
        "sources.yaml:8:5: sources[0].querry: unknown key 'querry' (did you mean 'query'?)",
        "sources.yaml:9:17: sources[0].freshness.warn_after: expected a duration like 90s, 15m, 2h or 1d, found '2 hourz'",
        "sources.yaml:11:5: sources[1].connection: no connection named 'somewhere'",
        "sources.yaml:12:5: sources[1].nod: unknown key 'nod' (did you mean 'node'?)",
        "sources.yaml:13:17: sources[1].freshness.error_after: expected a duration like 90s, 15m, 2h or 1d, found 'soon'",
        "sources.yaml:14:5: sources[2].id: String should match pattern '^[A-Za-z0-9][A-Za-z0-9_.-]*$'",
    ]


def test_an_unknown_connection_name_is_matched_by_the_kind_of_source_it_holds(write_config):
    path = write_config(
        """
        connections:
          wh: {type: sql, database: wh.duckdb}
          shop_dbt: {type: dbt, target_dir: target}
        sources:
          - {id: orders, connection: warehouse, query: SELECT 1}
          - {id: revenue, connection: dbt_project, node: model.shop.revenue}
        """
    )
    assert problems(path) == [
        "sources.yaml:5:18: sources[0].connection: no connection named 'warehouse' (did you mean 'wh'?)",
        "sources.yaml:6:19: sources[1].connection: no connection named 'dbt_project' (did you mean 'shop_dbt'?)",
    ]


def test_missing_environment_variable_names_variable_and_line(write_config):
    path = write_config(
        """
        connections:
          wh:
            type: sql
            database: ${WAREHOUSE_PATH}
        """
    )
    assert problems(path) == ["sources.yaml:4:15: connections.wh.database: environment variable WAREHOUSE_PATH is not set"]


def test_environment_variables_and_defaults_are_substituted(write_config, tmp_path):
    path = write_config(
        """
        history:
          path: ${HISTORY_DIR:-hist}/data
        connections:
          wh: {type: sql, database: "${WH}"}
        """
    )
    config = load_config(path, {"WH": "/data/wh.duckdb"})
    assert config.connections["wh"].database == Path("/data/wh.duckdb")
    assert config.history.path.resolve() == tmp_path / "hist" / "data"


def test_a_fixed_choice_from_the_environment_converts_like_a_number(write_config):
    path = write_config(
        """
        connections:
          af2: {type: airflow, url: "https://af2", api_version: "${AF_API_VERSION:-1}"}
          af3: {type: airflow, url: "https://af3", api_version: "2"}
          af9: {type: airflow, url: "https://af9", api_version: "${AF9_API_VERSION}"}
          wh: {type: sql, database: wh.duckdb, max_concurrency: "${WH_CONCURRENCY}"}
        """
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, {"AF9_API_VERSION": "3", "WH_CONCURRENCY": "2"})
    assert str(caught.value).splitlines() == ["1 problem in configuration:", "  sources.yaml:4:44: connections.af9.api_version: Input should be 1 or 2"]
    config = load_config(path, {"AF9_API_VERSION": " 2", "WH_CONCURRENCY": "2"})
    assert [config.connections[n].api_version for n in ("af2", "af3", "af9")] == [1, 2, 2]
    assert config.connections["wh"].max_concurrency == 2


def test_dollar_dollar_escapes_a_literal_reference(write_config):
    path = write_config(
        """
        site:
          description: "costs $$5, see $${NOT_A_VAR}"
        """
    )
    assert load_config(path, {}).site.description == "costs $5, see ${NOT_A_VAR}"


def test_invalid_yaml_points_at_the_line(write_config):
    path = write_config("site:\n  title: [unclosed\n")
    (only,) = problems(path)
    assert only.startswith("sources.yaml:3:1: invalid YAML:")


def test_duplicate_keys_are_errors_not_silent_overwrites(write_config):
    path = write_config("site:\n  title: A\n  title: B\n")
    assert problems(path) == ["sources.yaml:3:3: site.title: duplicate key (the earlier value would be lost)"]


def test_unknown_top_level_key(write_config):
    assert problems(write_config("sorces: []\n")) == ["sources.yaml:1:1: sorces: unknown key 'sorces' (did you mean 'sources'?)"]


def test_top_level_must_be_a_mapping(write_config):
    assert problems(write_config("- a\n")) == [
        "sources.yaml:1:1: expected a mapping with site, history, connections, sources and components"
    ]


def test_unknown_time_zone_and_reversed_freshness(write_config):
    path = write_config(
        """
        site: {timezone: Mars/Olympus}
        connections:
          wh: {type: sql, database: w.duckdb}
        sources:
          - {id: a, connection: wh, query: q, freshness: {warn_after: 2h, error_after: 1h}}
        """
    )
    assert problems(path) == [
        "sources.yaml:1:8: site.timezone: unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/Paris)",
        "sources.yaml:5:39: sources[0].freshness: warn_after must not be longer than error_after",
    ]


def test_alias_bombs_are_refused_not_expanded(write_config):
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]")
    path = write_config("\n".join(lines) + "\n")
    found = problems(path)
    (only,) = found  # one sentence, not one echo per value it cut off
    assert only.endswith("document expands to more than 1000000 values (aliases?)")


def test_yaml_merge_keys_work(write_config):
    path = write_config(
        """
        connections:
          wh: &wh {type: sql, database: w.duckdb}
          wh2:
            <<: *wh
            timeout: 5s
        """
    )
    assert load_config(path, {}).connections["wh2"].timeout == timedelta(seconds=5)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_bytes(b"site:\n  title: \xff\n")
    assert problems(path) == [f"{path}: not UTF-8 text (byte 15)"]


def test_missing_file(tmp_path):
    assert problems(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: cannot read: No such file or directory"]


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), ("1w", 604800), (30, 30)])
def test_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_json_schema_covers_every_collector():
    schema = json_schema()
    json.dumps(schema)  # serialisable
    connection_types = {d["properties"]["type"]["const"] for k, d in schema["$defs"].items() if k.endswith("Connection")}
    assert connection_types == set(BUILTIN)
    assert schema["properties"]["sources"]["items"]["anyOf"]
    assert schema["$defs"]["sql_SqlSource"]["additionalProperties"] is False


def test_bundled_example_is_valid():
    config = load_config(Path(__file__).parent.parent / "sources.yaml", {})
    assert {c.type for c in config.connections.values()} == {"sql", "dbt"}


def test_secrets_written_into_the_file_are_refused(write_config, monkeypatch):
    from typing import ClassVar, Literal

    from pydantic import SecretStr

    from statusgen import collectors
    from statusgen.collectors import Collector
    from statusgen.config import ConnectionConfig, SourceConfig

    class VaultConnection(ConnectionConfig):
        type: Literal["vault"]
        token: SecretStr

    class VaultCollector(Collector):
        type: ClassVar[str] = "vault"
        Connection = VaultConnection
        Source = SourceConfig

    monkeypatch.setattr(collectors, "registry", lambda: {"vault": VaultCollector})
    path = write_config(
        """
        connections:
          from_env: {type: vault, token: "${VAULT_TOKEN}"}
          literal: {type: vault, token: hunter2-literal}
        """
    )
    assert problems(path, {"VAULT_TOKEN": "t0ken"}) == [
        "sources.yaml:3:26: connections.literal.token: secrets must come from the environment: write ${VARIABLE}"
    ]


def test_the_bundled_example_validates_against_the_json_schema():
    import jsonschema
    import yaml

    example = yaml.safe_load((Path(__file__).parent.parent / "sources.yaml").read_text())
    jsonschema.validate(example, json_schema())
    broken = {**example, "sources": [{**example["sources"][0], "qurey": "typo"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, json_schema())


def test_shards_split_the_sources_without_overlap(write_config):
    lines = ["connections:", "  wh: {type: sql, database: w.duckdb}", "sources:"]
    lines += [f"  - {{id: s{i}, connection: wh, query: q}}" for i in range(40)]
    config = load_config(write_config("\n".join(lines) + "\n"), {})
    slices = [{s.id for s in config.shard(i, 3).sources} for i in (1, 2, 3)]
    assert set.union(*slices) == {s.id for s in config.sources}
    assert sum(len(s) for s in slices) == 40 and all(slices)
    assert {s.id for s in config.shard(2, 3).sources} == slices[1]  # the same slice every time


def test_default_paths_are_relative_to_the_config_file_too(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "sources.yaml").write_text("site: {title: X}\n")
    config = load_config(folder / "sources.yaml", {})
    assert config.history.path == folder / "history"
    assert config.site.incidents_dir == folder / "incidents"


def test_twenty_thousand_written_sources_load(write_config):
    sources = "".join(f"  - {{id: s{i}, connection: wh, query: 'SELECT 1'}}\n" for i in range(20_000))
    path = write_config("connections:\n  wh: {type: sql, database: wh.duckdb}\nsources:\n" + sources)
    assert len(load_config(path, {}).sources) == 20_000


def test_the_config_imports_nothing_downstream():
    """Data flows one way: the config is read before anything is collected or rendered, so it
    may not import the modules that render (checking the footer's Markdown used to import incidents)."""
    import subprocess
    import sys

    code = "import sys, statusgen.config; print(sorted(m for m in sys.modules if m.startswith('statusgen.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "statusgen.incidents" not in loaded and "statusgen.site" not in loaded
