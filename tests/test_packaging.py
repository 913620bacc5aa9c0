"""The wheel's package list: pyproject.toml names its packages (the templates are mapped in
from the top level, which setuptools' finder cannot do), so a new package must be added there."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_of_statusgen_is_in_the_wheel():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "statusgen").rglob("__init__.py")}
    mapped = {name for name, folder in setuptools["package-dir"].items() if (ROOT / folder / "__init__.py").is_file()}
    assert set(setuptools["packages"]) == on_disk | mapped


def test_the_built_in_templates_load_from_the_top_level_folder():
    from importlib.resources import files

    from statusgen.site.render import TEMPLATES

    assert Path(str(files(TEMPLATES))).resolve() == ROOT / "site_templates"
