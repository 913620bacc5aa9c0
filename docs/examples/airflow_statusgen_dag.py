"""statusgen's scheduled job as an Airflow DAG, for teams that run things in Airflow rather
than in GitHub Actions (minutes, network rules). Copy it into your DAGs folder and set:

    STATUSGEN_BIN        statusgen's executable, installed in a virtual environment of its
                         own so its pins never meet Airflow's (default: statusgen on PATH)
    STATUSGEN_CONFIG     sources.yaml                   (default: sources.yaml)
    STATUSGEN_HISTORY    a folder or s3://bucket/prefix (default: the config's history.path)
    STATUSGEN_SITE       where the site is written      (default: site)
    STATUSGEN_PUBLISH_TO optional folder or s3://bucket/prefix to publish to

The variables your sources.yaml refers to as ${VARIABLE} must be in the worker's
environment. If this Airflow stops scheduling, the page says so itself: it judges its own
age at view time against `site.collect_every`, which should match `schedule` below.
"""

import os
import shlex
from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import dag

STATUSGEN = shlex.quote(os.environ.get("STATUSGEN_BIN", "statusgen"))
CONFIG = shlex.quote(os.environ.get("STATUSGEN_CONFIG", "sources.yaml"))
HISTORY = os.environ.get("STATUSGEN_HISTORY")
SITE = shlex.quote(os.environ.get("STATUSGEN_SITE", "site"))
PUBLISH_TO = os.environ.get("STATUSGEN_PUBLISH_TO")


@dag(
    schedule=timedelta(minutes=30),
    start_date=datetime(2026, 1, 1),
    catchup=False,  # each run reads every run it missed from the orchestrators anyway
    max_active_runs=1,  # statusgen is safe when runs overlap, but there is nothing to gain
    dagrun_timeout=timedelta(minutes=20),
    tags=["statusgen"],
)
def statusgen_status_page():
    history = f" --history {shlex.quote(HISTORY)}" if HISTORY else ""
    run = BashOperator(task_id="collect_and_render", bash_command=f"{STATUSGEN} run -c {CONFIG}{history} --out {SITE}")
    if PUBLISH_TO:
        run >> BashOperator(task_id="publish", bash_command=f"{STATUSGEN} publish --site {SITE} --to {shlex.quote(PUBLISH_TO)} --delete")


statusgen_status_page()
