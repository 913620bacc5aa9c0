"""The built-in templates, stylesheet and page script of the site, shipped inside statusgen
as the package `statusgen.site_templates` (pyproject.toml maps it here), so installed and
editable copies load them the same way. A theme's folder (`site.theme_dir`) overrides any of
them by name; what each template is given is the theme API, in docs/theming.md.
"""
