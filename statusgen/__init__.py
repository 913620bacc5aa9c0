"""statusgen: a static status page for data pipelines."""
