"""Every saved format is listed once, with its version, and the README says the same."""

from pathlib import Path

from statusgen import catalog, formats, history, publish

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_the_modules_write_the_versions_the_list_gives():
    assert history.SCHEMA_VERSION == formats.HISTORY.version
    assert publish.MANIFEST_VERSION == formats.PUBLISHED.version
    assert not hasattr(catalog, "VERSION")  # read from the list, not kept beside it


def test_the_readme_lists_every_format_with_its_version():
    for name, fmt in formats.FORMATS.items():
        assert f"| {name} | {fmt.where} | {fmt.version} | {fmt.older} |" in README, name
    for derived in formats.DERIVED:
        assert derived in README
